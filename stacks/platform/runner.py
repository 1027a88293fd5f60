"""Delivery tier: the in-VPC runner that deploys the workloads layer, and its cluster access."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster import Cluster
from components.deploy_runner import DeployRunner, DeployRunnerArgs
from components.encryption import Encryption, KeyDomain
from components.network import Network

from ..settings import StackSettings
from ..settings.delivery import STATE_BUCKET_FORMAT
from .providers import PROJECT


def runner_project_name(environment: str) -> str:
    """The CodeBuild project; workflows target it as `codebuild-<name>-<run id>-<attempt>`."""
    return f"{PROJECT}-{environment}-workloads"


def _state_bucket_arn(settings: StackSettings, invoke: pulumi.InvokeOutputOptions):
    """The bucket `bootstrap` creates in the stack's region, unless one is configured."""
    partition = aws.get_partition_output(opts=invoke).partition
    name = settings.deploy_runner.state_bucket or aws.get_caller_identity_output(
        opts=invoke
    ).account_id.apply(
        lambda account: STATE_BUCKET_FORMAT.format(account=account, region=settings.region)
    )
    return pulumi.Output.concat("arn:", partition, ":s3:::", name)


def build_runner(
    settings: StackSettings,
    network: Network,
    keys_: Encryption,
    cluster: Cluster,
    opts: pulumi.ResourceOptions,
) -> DeployRunner | None:
    """The runner, admitted to the private API and granted access through its own entry."""
    runner_settings = settings.deploy_runner
    if not runner_settings.repository:
        return None
    invoke = pulumi.InvokeOutputOptions(provider=opts.providers["aws"])
    secrets_key = aws.kms.get_key_output(key_id=runner_settings.secrets_key_alias, opts=invoke)
    runner = DeployRunner(
        f"{settings.environment}-deploy-runner",
        DeployRunnerArgs(
            project_name=runner_project_name(settings.environment),
            repository=runner_settings.repository,
            vpc_id=network.vpc.id,
            subnet_ids=network.private_subnet_ids,
            cluster_security_group_id=cluster.cluster_security_group_id,
            logs_key_arn=keys_.keys[KeyDomain.LOGS].arn,
            log_retention_days=settings.logging.retention_days,
            state_bucket_arn=_state_bucket_arn(settings, invoke),
            secrets_key_arn=secrets_key.arn,
            database_identifier=f"{PROJECT}-{settings.environment}",
            webhook=runner_settings.connection_authorized,
        ),
        opts=opts,
    )
    cluster.grant_admin("deploy-runner", runner.role.arn)
    return runner
