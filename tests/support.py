"""Shared helpers: synthesize stacks or single components under the recording mock runtime."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.runtime.mocks import MockCallArgs

from stacks.offline import Plan, synthesize, synthesize_stack
from stacks.offline.mocks import OfflineMocks
from stacks.settings import StackSettings, load_settings
from stacks.stackfile import read_stack_config

AWS_PROVIDER = "pulumi:providers:aws"
# The least a stack needs: a region and the CRM's public endpoint.
MINIMAL_CONFIG = {
    "aws:region": "eu-central-1",
    "crm-platform:app": json.dumps(
        {"domain": "crm.example.com", "tls": {"hostedZoneId": "Z0EXAMPLE1234567890"}}
    ),
}


def settings_of(stack: str) -> StackSettings:
    """The validated settings of a stack file."""
    return load_settings(stack, read_stack_config(stack))


def stack_config(stack: str, **overrides: Any) -> dict[str, str]:
    """A shipped stack's config with `crm-platform:<key>` values replaced (objects merged)."""
    config = read_stack_config(stack)
    for key, value in overrides.items():
        full_key = key if ":" in key else f"crm-platform:{key}"
        if isinstance(value, dict) and full_key in config:
            value = {**json.loads(config[full_key]), **value}
        config[full_key] = value if isinstance(value, str) else json.dumps(value)
    return config


def synth_stack(stack: str, **overrides: Any) -> Plan:
    """Synthesize both layers of a shipped stack (optionally with config overrides) as
    `pulumi up` of the platform, then of the workloads, would."""
    config = stack_config(stack, **overrides)
    return synthesize_stack(stack, config, load_settings(stack, config))


def synth_component(
    build: Callable[[pulumi.ResourceOptions], object], region: str = "eu-central-1"
) -> Plan:
    """Synthesize one component, built by `build(opts)` under an explicit aws provider."""

    def component_program() -> None:
        provider = aws.Provider("aws", region=region)
        build(pulumi.ResourceOptions(providers={"aws": provider}))

    return synthesize(component_program, stack="test", config={"aws:region": region})


def invoke(token: str, region: str, **args: Any) -> dict[str, Any]:
    """What the offline runtime answers for the data source `token` in `region`."""
    call = MockCallArgs(token, {"region": region, **args}, "")
    return OfflineMocks(default_region=region).call(call)


def elb_service_account(region: str) -> dict[str, Any]:
    return invoke("aws:elb/getServiceAccount:getServiceAccount", region)


def service_principal(service: str, region: str) -> dict[str, Any]:
    """The answer of aws.get_service_principal: `name`, regional `id`, `suffix`."""
    return invoke("aws:index/getServicePrincipal:getServicePrincipal", region, serviceName=service)


def urn_of(plan: Plan, type_token: str, name: str) -> str:
    return next(r.urn for r in plan.of_type(type_token) if r.name == name)
