"""`DeployRunner`: a CodeBuild-hosted GitHub Actions runner inside the VPC.

The EKS API endpoint is private, so only something inside the VPC can deploy the workloads
layer. GitHub queues a workflow job whose `runs-on` label is
`codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`; the webhook (filtered on
`WORKFLOW_JOB_QUEUED`) starts a build of this project, which registers itself as an ephemeral
runner for that one job, in the private subnets, with this project's role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .iam import service_principal, service_trust_json

COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
IMAGE = "aws/codebuild/standard:7.0"
"""CodeBuild's managed Ubuntu 22.04 image: `actions/setup-python` has Python builds for Ubuntu
only (not Amazon Linux), and the image carries AWS CLI v2 for `aws eks get-token`."""


@dataclass(frozen=True)
class DeployRunnerArgs:
    """Inputs of `DeployRunner`."""

    project_name: str
    """CodeBuild project name; workflows target it as `codebuild-<project_name>-…`."""
    repository: str
    """GitHub repository (`owner/name`) whose workflow jobs the runner takes."""
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets with a route to a NAT gateway (the runner downloads actions, Pulumi
    plugins and Helm charts, and talks to GitHub)."""
    cluster_security_group_id: pulumi.Input[str]
    """The EKS cluster security group; the runner is admitted on 443 to the private API."""
    logs_key_arn: pulumi.Input[str]
    """Key of the runner's log group (builds produce no artefacts)."""
    log_retention_days: int
    state_bucket_arn: pulumi.Input[str]
    """The Pulumi state bucket (the workloads stack and the platform stack it references)."""
    secrets_key_arn: pulumi.Input[str]
    """The KMS key of the Pulumi secrets provider."""
    database_identifier: str = ""
    """The stack's RDS primary: `promote` snapshots it before a version change, `verify`
    describes it."""
    webhook: bool = False
    """Create the GitHub webhook: only once the connection is authorised (a one-time step in
    the console), because CodeBuild calls GitHub with it to create the webhook."""


class DeployRunner(pulumi.ComponentResource):
    """GitHub connection, CodeBuild project in the VPC, its role, log group and webhook."""

    def __init__(
        self, name: str, args: DeployRunnerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:delivery:DeployRunner", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        self.connection = aws.codeconnections.Connection(
            name, name=name[:32], provider_type="GitHub", opts=child
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        self._rds_arn = pulumi.Output.concat("arn:", partition, ":rds:", region, ":", account, ":")
        self.security_group = self._security_group()
        log_group = aws.cloudwatch.LogGroup(
            name,
            name=f"/aws/codebuild/{args.project_name}",
            kms_key_id=args.logs_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            name,
            assume_role_policy=service_trust_json("codebuild", self),
            opts=child,
        )
        grant = aws.iam.RolePolicy(
            name,
            role=self.role.id,
            policy=pulumi.Output.json_dumps(self._permissions(log_group.arn)),
            opts=child,
        )
        self.project = self._project(log_group, depends_on=[grant])
        if args.webhook:
            aws.codebuild.Webhook(
                name,
                project_name=self.project.name,
                build_type="BUILD",
                filter_groups=[
                    aws.codebuild.WebhookFilterGroupArgs(
                        filters=[
                            aws.codebuild.WebhookFilterGroupFilterArgs(
                                type="EVENT", pattern="WORKFLOW_JOB_QUEUED"
                            )
                        ]
                    )
                ],
                opts=child,
            )
        self.label = f"codebuild-{args.project_name}"
        self.register_outputs(
            {"label": self.label, "roleArn": self.role.arn, "connectionArn": self.connection.arn}
        )

    def _security_group(self) -> aws.ec2.SecurityGroup:
        """No ingress; HTTPS out (GitHub, registries, AWS APIs, the cluster's private API)."""
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(
            f"{name}-runner",
            vpc_id=args.vpc_id,
            description="In-VPC deploy runner (CodeBuild); no inbound traffic",
            tags={"Name": f"{name}-runner"},
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-runner-https",
            security_group_id=group.id,
            description="HTTPS to GitHub, registries, AWS APIs and the Kubernetes API",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-api-from-runner",
            security_group_id=args.cluster_security_group_id,
            description="Kubernetes API (private endpoint) from the deploy runner",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=group.id,
            opts=child,
        )
        return group

    def _permissions(self, log_group_arn: pulumi.Output[str]) -> dict:
        """What a workloads deploy needs, and no more: its logs, network interfaces in the
        given subnets, the GitHub connection, the Pulumi state and secrets key, and what the
        jobs after `up` call: `verify` (read-only describes) and `promote` (a tagged snapshot
        of this stack's database)."""
        args = self._args
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Logs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": pulumi.Output.concat(log_group_arn, ":*"),
                },
                {
                    "Sid": "DescribeNetwork",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:CreateNetworkInterface",
                        "ec2:DeleteNetworkInterface",
                        "ec2:DescribeDhcpOptions",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVpcs",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "NetworkInterfacesInTheRunnerSubnets",
                    "Effect": "Allow",
                    "Action": "ec2:CreateNetworkInterfacePermission",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "ec2:AuthorizedService": service_principal("codebuild", self)
                        }
                    },
                },
                {
                    "Sid": "GitHubConnection",
                    "Effect": "Allow",
                    "Action": [
                        "codeconnections:GetConnection",
                        "codeconnections:GetConnectionToken",
                        "codeconnections:UseConnection",
                    ],
                    "Resource": self.connection.arn,
                },
                {
                    "Sid": "PulumiState",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                    "Resource": args.state_bucket_arn,
                },
                {
                    "Sid": "PulumiStateObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": pulumi.Output.concat(args.state_bucket_arn, "/*"),
                },
                {
                    "Sid": "PulumiSecrets",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": args.secrets_key_arn,
                },
                {
                    "Sid": "ClusterLookup",
                    "Effect": "Allow",
                    "Action": "eks:DescribeCluster",
                    "Resource": "*",
                },
                {
                    "Sid": "VerifyReadsTheDeployment",
                    "Effect": "Allow",
                    "Action": [
                        "rds:DescribeDBInstances",
                        "rds:DescribeDBParameters",
                        "rds:DescribeDBSnapshots",
                        "secretsmanager:DescribeSecret",
                        "s3:GetEncryptionConfiguration",
                        "s3:GetBucketPublicAccessBlock",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "PromoteSnapshotsThisDatabase",
                    "Effect": "Allow",
                    "Action": ["rds:CreateDBSnapshot", "rds:AddTagsToResource"],
                    "Resource": [
                        pulumi.Output.concat(self._rds_arn, "db:", args.database_identifier),
                        pulumi.Output.concat(
                            self._rds_arn, "snapshot:", args.database_identifier, "-pre-*"
                        ),
                    ],
                },
            ],
        }

    def _project(
        self, log_group: aws.cloudwatch.LogGroup, depends_on: list[pulumi.Resource]
    ) -> aws.codebuild.Project:
        args = self._args
        return aws.codebuild.Project(
            self._name,
            name=args.project_name,
            description=f"In-VPC GitHub Actions runner for {args.repository} (workloads layer)",
            service_role=self.role.arn,
            build_timeout=120,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{args.repository}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(
                    type="CODECONNECTIONS", resource=self.connection.arn
                ),
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=COMPUTE_TYPE,
                image=IMAGE,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id,
                subnets=list(args.subnet_ids),
                security_group_ids=[self.security_group.id],
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status="ENABLED", group_name=log_group.name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
