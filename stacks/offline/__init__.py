"""Offline synthesis: run a stack's program under Pulumi's mock runtime and record the graph.

No Pulumi CLI, credentials or network: the recorded resources (type, name, inputs, parent,
provider, dependencies, options) are what the engine would receive on `pulumi preview`.
"""

from .layers import synthesize_stack
from .model import Plan, PlannedResource
from .synth import SynthesisError, synthesize

__all__ = ["Plan", "PlannedResource", "SynthesisError", "synthesize", "synthesize_stack"]
