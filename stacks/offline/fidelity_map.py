"""Which API operation members each Pulumi AWS input becomes (pulumi-aws v7 → botocore).

Inputs whose camelCase name matches a member of one of the operations (case and underscores
ignored) need no entry. `renames` maps a Pulumi input path (list levels omitted) to
`Operation:Member.Path` (or `Member.Path` in the first operation; `Map.value` is a map's entry,
for settings sent as one key of an attribute map). `provider_only` lists inputs
no API call takes, each with the reason. `roots` are members whose fields Pulumi flattens to
the top level (a launch template's `LaunchTemplateData`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiMapping:
    service: str
    operations: tuple[str, ...]
    renames: Mapping[str, str] = field(default_factory=dict)
    provider_only: Mapping[str, str] = field(default_factory=dict)
    roots: tuple[str, ...] = ()
    flattened: tuple[str, ...] = ()
    """Pulumi blocks whose fields the API takes as separate members (each one renamed)."""
    instead_when_set: tuple[str, ApiMapping] | None = None
    """(input, mapping): use that mapping when the input is set (a replica's own operation)."""

    def select(self, inputs: Mapping[str, Any]) -> ApiMapping:
        if self.instead_when_set and inputs.get(self.instead_when_set[0]):
            return self.instead_when_set[1]
        return self

    def variants(self) -> tuple[ApiMapping, ...]:
        return (self, self.instead_when_set[1]) if self.instead_when_set else (self,)

    def operation_names(self) -> set[str]:
        """Every operation the mapping reads shapes from."""
        named = {spec.rpartition(":")[0] for spec in self.renames.values()}
        return (set(self.operations) | named) - {""}


EC2_TAGS = {"tags": "TagSpecifications.Tags"}
REGION = {"region": "the provider's endpoint region (pulumi-aws v7 per-resource region)"}
SKIP_DESTROY = {"skipDestroy": "the provider keeps the resource on destroy"}


def _ec2(*operations: str, tagged: bool = True, **renames: str) -> ApiMapping:
    """An EC2 resource; tags travel in the create call's TagSpecifications."""
    return ApiMapping("ec2", operations, {**(EC2_TAGS if tagged else {}), **renames}, REGION)


_RDS_INSTANCE_RENAMES = {
    "identifier": "DBInstanceIdentifier",
    "instanceClass": "DBInstanceClass",
    "dbSubnetGroupName": "DBSubnetGroupName",
    "parameterGroupName": "DBParameterGroupName",
    "iamDatabaseAuthenticationEnabled": "EnableIAMDatabaseAuthentication",
    "performanceInsightsEnabled": "EnablePerformanceInsights",
    "performanceInsightsKmsKeyId": "PerformanceInsightsKMSKeyId",
    "enabledCloudwatchLogsExports": "EnableCloudwatchLogsExports",
    "maintenanceWindow": "PreferredMaintenanceWindow",
    "backupWindow": "PreferredBackupWindow",
    "username": "MasterUsername",
    "password": "MasterUserPassword",
    "finalSnapshotIdentifier": "DeleteDBInstance:FinalDBSnapshotIdentifier",
    "deleteAutomatedBackups": "DeleteDBInstance:DeleteAutomatedBackups",
    "skipFinalSnapshot": "DeleteDBInstance:SkipFinalSnapshot",
}
_RDS_INSTANCE_PROVIDER_ONLY = {
    **REGION,
    "applyImmediately": "sent as ModifyDBInstance.ApplyImmediately on updates only",
}
RDS_REPLICA = ApiMapping(
    "rds",
    ("CreateDBInstanceReadReplica", "ModifyDBInstance"),
    {  # a replica has its source's master user
        **{key: spec for key, spec in _RDS_INSTANCE_RENAMES.items() if key != "username"},
        "replicateSourceDb": "SourceDBInstanceIdentifier",
    },
    {
        **_RDS_INSTANCE_PROVIDER_ONLY,
        "storageEncrypted": "a replica inherits its source's encryption; only KmsKeyId is sent",
    },
)

# A read replica is created by CreateDBInstanceReadReplica, then modified.
RDS_INSTANCE = ApiMapping(
    "rds",
    ("CreateDBInstance", "ModifyDBInstance"),
    _RDS_INSTANCE_RENAMES,
    _RDS_INSTANCE_PROVIDER_ONLY,
    instead_when_set=("replicateSourceDb", RDS_REPLICA),
)


_SG_RULE = {
    "": "",
    ".protocol": ".IpProtocol",
    ".cidrBlocks": ".IpRanges.CidrIp",
    ".ipv6CidrBlocks": ".Ipv6Ranges.CidrIpv6",
    ".prefixListIds": ".PrefixListIds.PrefixListId",
    ".securityGroups": ".UserIdGroupPairs.GroupId",
    ".description": ".IpRanges.Description",
}


def _sg_rules(direction: str) -> dict[str, str]:
    """Inline `ingress`/`egress` rules become AuthorizeSecurityGroup*'s IpPermissions."""
    operation = f"AuthorizeSecurityGroup{direction.capitalize()}"
    return {
        f"{direction}{key}": f"{operation}:IpPermissions{path}" for key, path in _SG_RULE.items()
    }


SG_SELF = {
    f"{direction}.self": "true adds the group's own id to UserIdGroupPairs"
    for direction in ("ingress", "egress")
}


MAPPINGS: dict[str, ApiMapping] = {
    # EC2 and VPC
    "aws:ec2/vpc:Vpc": _ec2(
        "CreateVpc",
        "ModifyVpcAttribute",
        enableDnsHostnames="ModifyVpcAttribute:EnableDnsHostnames.Value",
        enableDnsSupport="ModifyVpcAttribute:EnableDnsSupport.Value",
    ),
    "aws:ec2/subnet:Subnet": _ec2(
        "CreateSubnet",
        mapPublicIpOnLaunch="ModifySubnetAttribute:MapPublicIpOnLaunch.Value",
    ),
    "aws:ec2/internetGateway:InternetGateway": _ec2(
        "CreateInternetGateway", vpcId="AttachInternetGateway:VpcId"
    ),
    "aws:ec2/eip:Eip": _ec2("AllocateAddress"),
    "aws:ec2/natGateway:NatGateway": _ec2("CreateNatGateway"),
    "aws:ec2/routeTable:RouteTable": _ec2("CreateRouteTable"),
    "aws:ec2/route:Route": _ec2("CreateRoute", tagged=False),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2(
        "AssociateRouteTable", tagged=False
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2("CreateVpcEndpoint", policy="PolicyDocument"),
    "aws:ec2/flowLog:FlowLog": _ec2(
        "CreateFlowLogs",
        iamRoleArn="DeliverLogsPermissionArn",
        vpcId="ResourceIds",
    ),
    "aws:ec2/securityGroup:SecurityGroup": ApiMapping(
        "ec2",
        ("CreateSecurityGroup",),
        {**EC2_TAGS, "name": "GroupName", **_sg_rules("ingress"), **_sg_rules("egress")},
        {**REGION, **SG_SELF, "revokeRulesOnDelete": "the provider revokes rules first"},
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ApiMapping(
        "ec2",
        ("AuthorizeSecurityGroupIngress",),
        {**EC2_TAGS, **_sg_rules("ingress"), **_sg_rules("egress")},
        {**REGION, **SG_SELF, "vpcId": "selects the VPC whose default group is adopted"},
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2(
        "AuthorizeSecurityGroupIngress",
        securityGroupId="GroupId",
        cidrIpv4="IpPermissions.IpRanges.CidrIp",
        description="IpPermissions.IpRanges.Description",
        referencedSecurityGroupId="IpPermissions.UserIdGroupPairs.GroupId",
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2(
        "AuthorizeSecurityGroupEgress",
        securityGroupId="GroupId",
        cidrIpv4="IpPermissions.IpRanges.CidrIp",
        description="IpPermissions.IpRanges.Description",
        referencedSecurityGroupId="IpPermissions.UserIdGroupPairs.GroupId",
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": ApiMapping(
        "ec2",
        ("CreateLaunchTemplate",),
        {
            "name": "LaunchTemplateName",
            "description": "VersionDescription",
            "tags": "TagSpecifications.Tags",
            "vpcSecurityGroupIds": "LaunchTemplateData.SecurityGroupIds",
        },
        {**REGION, "updateDefaultVersion": "the provider calls ModifyLaunchTemplate after"},
        roots=("LaunchTemplateData",),
    ),
    # KMS
    "aws:kms/key:Key": ApiMapping(
        "kms",
        ("CreateKey", "ScheduleKeyDeletion", "EnableKeyRotation"),
        {
            "deletionWindowInDays": "ScheduleKeyDeletion:PendingWindowInDays",
            "rotationPeriodInDays": "EnableKeyRotation:RotationPeriodInDays",
        },
        {
            **REGION,
            "enableKeyRotation": "selects whether the provider calls EnableKeyRotation",
            "isEnabled": "selects EnableKey or DisableKey",
        },
    ),
    "aws:kms/alias:Alias": ApiMapping("kms", ("CreateAlias",), {"name": "AliasName"}, REGION),
    # IAM
    "aws:iam/role:Role": ApiMapping(
        "iam",
        ("CreateRole",),
        {"assumeRolePolicy": "AssumeRolePolicyDocument", "name": "RoleName"},
        {"forceDetachPolicies": "the provider detaches policies before deleting"},
    ),
    "aws:iam/rolePolicy:RolePolicy": ApiMapping(
        "iam",
        ("PutRolePolicy",),
        {"policy": "PolicyDocument", "role": "RoleName", "name": "PolicyName"},
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ApiMapping(
        "iam", ("AttachRolePolicy",), {"role": "RoleName"}
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ApiMapping(
        "iam", ("CreateOpenIDConnectProvider",), {"clientIdLists": "ClientIDList"}
    ),
    # EKS
    "aws:eks/cluster:Cluster": ApiMapping(
        "eks",
        ("CreateCluster",),
        {
            "vpcConfig": "resourcesVpcConfig",
            "enabledClusterLogTypes": "logging.clusterLogging.types",
            "encryptionConfig.provider.keyArn": "encryptionConfig.provider.keyArn",
        },
        REGION,
    ),
    "aws:eks/nodeGroup:NodeGroup": ApiMapping(
        "eks",
        ("CreateNodegroup",),
        {"nodeRoleArn": "nodeRole", "subnetIds": "subnets"},
        REGION,
    ),
    "aws:eks/addon:Addon": ApiMapping(
        "eks",
        ("CreateAddon", "UpdateAddon"),
        {
            "resolveConflictsOnCreate": "CreateAddon:resolveConflicts",
            "resolveConflictsOnUpdate": "UpdateAddon:resolveConflicts",
        },
        {**REGION, "preserve": "the provider keeps the add-on's objects on delete"},
    ),
    "aws:eks/accessEntry:AccessEntry": ApiMapping("eks", ("CreateAccessEntry",), {}, REGION),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ApiMapping(
        "eks", ("AssociateAccessPolicy",), {}, REGION
    ),
    # RDS
    "aws:rds/instance:Instance": RDS_INSTANCE,
    "aws:rds/parameterGroup:ParameterGroup": ApiMapping(
        "rds",
        ("CreateDBParameterGroup", "ModifyDBParameterGroup"),
        {
            "family": "DBParameterGroupFamily",
            "name": "DBParameterGroupName",
            "parameters.name": "Parameters.ParameterName",
            "parameters.value": "Parameters.ParameterValue",
        },
        REGION,
    ),
    "aws:rds/subnetGroup:SubnetGroup": ApiMapping(
        "rds",
        ("CreateDBSubnetGroup",),
        {"description": "DBSubnetGroupDescription", "name": "DBSubnetGroupName"},
        REGION,
    ),
    # ElastiCache
    "aws:elasticache/replicationGroup:ReplicationGroup": ApiMapping(
        "elasticache",
        ("CreateReplicationGroup", "ModifyReplicationGroup"),
        {
            "description": "ReplicationGroupDescription",
            "nodeType": "CacheNodeType",
            "parameterGroupName": "CacheParameterGroupName",
            "subnetGroupName": "CacheSubnetGroupName",
            "multiAzEnabled": "MultiAZEnabled",
            "maintenanceWindow": "PreferredMaintenanceWindow",
            "logDeliveryConfigurations.destination": (
                "LogDeliveryConfigurations.DestinationDetails.CloudWatchLogsDetails.LogGroup"
            ),
            "finalSnapshotIdentifier": "DeleteReplicationGroup:FinalSnapshotIdentifier",
        },
        {**REGION, "applyImmediately": "sent on updates only"},
    ),
    "aws:elasticache/parameterGroup:ParameterGroup": ApiMapping(
        "elasticache",
        ("CreateCacheParameterGroup",),
        {
            "family": "CacheParameterGroupFamily",
            "name": "CacheParameterGroupName",
            "parameters.name": "ModifyCacheParameterGroup:ParameterNameValues.ParameterName",
            "parameters.value": "ModifyCacheParameterGroup:ParameterNameValues.ParameterValue",
            "parameters": "ModifyCacheParameterGroup:ParameterNameValues",
        },
        REGION,
    ),
    "aws:elasticache/subnetGroup:SubnetGroup": ApiMapping(
        "elasticache",
        ("CreateCacheSubnetGroup",),
        {"description": "CacheSubnetGroupDescription", "name": "CacheSubnetGroupName"},
        REGION,
    ),
    # CloudWatch Logs
    "aws:cloudwatch/logGroup:LogGroup": ApiMapping(
        "logs",
        ("CreateLogGroup", "PutRetentionPolicy"),
        {"name": "logGroupName"},
        {**REGION, **SKIP_DESTROY},
    ),
    # S3
    "aws:s3/bucket:Bucket": ApiMapping(
        "s3",
        ("CreateBucket", "PutBucketTagging"),
        {"tags": "PutBucketTagging:Tagging.TagSet"},
        {
            **REGION,
            "forceDestroy": "the provider empties the bucket before deleting it",
            "bucketPrefix": "the provider derives Bucket from it (checked as `bucket` then)",
        },
    ),
    "aws:s3/bucketVersioning:BucketVersioning": ApiMapping(
        "s3", ("PutBucketVersioning",), {}, REGION
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        ApiMapping(
            "s3",
            ("PutBucketEncryption",),
            {
                "rules": "ServerSideEncryptionConfiguration.Rules",
                "rules.blockedEncryptionTypes": (
                    "ServerSideEncryptionConfiguration.Rules.BlockedEncryptionTypes.EncryptionType"
                ),
            },
            REGION,
        )
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ApiMapping(
        "s3", ("PutPublicAccessBlock",), {}, REGION, roots=("PublicAccessBlockConfiguration",)
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ApiMapping(
        "s3", ("PutBucketOwnershipControls",), {"rule": "OwnershipControls.Rules"}, REGION
    ),
    "aws:s3/bucketPolicy:BucketPolicy": ApiMapping("s3", ("PutBucketPolicy",), {}, REGION),
    "aws:s3/bucketLogging:BucketLogging": ApiMapping(
        "s3", ("PutBucketLogging",), {}, REGION, roots=("BucketLoggingStatus.LoggingEnabled",)
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ApiMapping(
        "s3",
        ("PutBucketLifecycleConfiguration",),
        {"rules": "LifecycleConfiguration.Rules"},
        REGION,
    ),
    # ACM and Route 53
    "aws:acm/certificate:Certificate": ApiMapping("acm", ("RequestCertificate",), {}, REGION),
    "aws:route53/record:Record": ApiMapping(
        "route53",
        ("ChangeResourceRecordSets",),
        {
            "zoneId": "HostedZoneId",
            "records": "ChangeBatch.Changes.ResourceRecordSet.ResourceRecords.Value",
            "name": "ChangeBatch.Changes.ResourceRecordSet.Name",
            "type": "ChangeBatch.Changes.ResourceRecordSet.Type",
            "ttl": "ChangeBatch.Changes.ResourceRecordSet.TTL",
            "aliases": "ChangeBatch.Changes.ResourceRecordSet.AliasTarget",
            "aliases.zoneId": "ChangeBatch.Changes.ResourceRecordSet.AliasTarget.HostedZoneId",
            "aliases.name": "ChangeBatch.Changes.ResourceRecordSet.AliasTarget.DNSName",
        },
        {"allowOverwrite": "the provider UPSERTs instead of CREATE"},
    ),
}

_LB_ATTRIBUTE = "ModifyLoadBalancerAttributes:Attributes.Value"
_TG_ATTRIBUTE = "ModifyTargetGroupAttributes:Attributes.Value"
MAPPINGS |= {
    # Elastic Load Balancing v2 (the platform edge)
    "aws:lb/loadBalancer:LoadBalancer": ApiMapping(
        "elbv2",
        ("CreateLoadBalancer", "ModifyLoadBalancerAttributes"),
        {
            "loadBalancerType": "Type",
            # Attributes are key/value strings: their values are checked as such.
            **{
                key: _LB_ATTRIBUTE
                for key in (
                    "dropInvalidHeaderFields",
                    "idleTimeout",
                    "enableDeletionProtection",
                    "desyncMitigationMode",
                    "accessLogs.enabled",
                    "accessLogs.bucket",
                    "accessLogs.prefix",
                    "enableHttp2",
                    "preserveHostHeader",
                    "xffHeaderProcessingMode",
                )
            },
        },
        {**REGION, "internal": "becomes Scheme (internal or internet-facing)"},
        flattened=("accessLogs",),
    ),
    "aws:lb/listener:Listener": ApiMapping(
        "elbv2",
        ("CreateListener",),
        {
            "certificateArn": "Certificates.CertificateArn",
            "defaultActions.redirect": "DefaultActions.RedirectConfig",
            "defaultActions.forward": "DefaultActions.ForwardConfig",
            "defaultActions.fixedResponse": "DefaultActions.FixedResponseConfig",
        },
        REGION,
    ),
    "aws:lb/targetGroup:TargetGroup": ApiMapping(
        "elbv2",
        ("CreateTargetGroup", "ModifyTargetGroupAttributes"),
        {
            "healthCheck.path": "HealthCheckPath",
            "healthCheck.port": "HealthCheckPort",
            "healthCheck.protocol": "HealthCheckProtocol",
            "healthCheck.enabled": "HealthCheckEnabled",
            "healthCheck.interval": "HealthCheckIntervalSeconds",
            "healthCheck.timeout": "HealthCheckTimeoutSeconds",
            "healthCheck.healthyThreshold": "HealthyThresholdCount",
            "healthCheck.unhealthyThreshold": "UnhealthyThresholdCount",
            "healthCheck.matcher": "Matcher.HttpCode",
            "deregistrationDelay": _TG_ATTRIBUTE,
        },
        REGION,
        flattened=("healthCheck",),
    ),
    # CodeBuild (the in-VPC deploy runner) and its GitHub connection
    "aws:codebuild/project:Project": ApiMapping(
        "codebuild",
        ("CreateProject",),
        {"buildTimeout": "timeoutInMinutes", "queuedTimeout": "queuedTimeoutInMinutes"},
        REGION,
    ),
    "aws:codeconnections/connection:Connection": ApiMapping(
        "codeconnections", ("CreateConnection",), {"name": "ConnectionName"}, REGION
    ),
}

MAPPINGS |= {
    # IAM users (the SES SMTP sender) and Secrets Manager
    "aws:iam/user:User": ApiMapping(
        "iam",
        ("CreateUser",),
        {"name": "UserName"},
        {"forceDestroy": "the provider deletes the user's keys and policies first"},
    ),
    "aws:iam/accessKey:AccessKey": ApiMapping("iam", ("CreateAccessKey",), {"user": "UserName"}),
    "aws:iam/userPolicy:UserPolicy": ApiMapping(
        "iam",
        ("PutUserPolicy",),
        {"policy": "PolicyDocument", "user": "UserName", "name": "PolicyName"},
    ),
    "aws:secretsmanager/secret:Secret": ApiMapping(
        "secretsmanager",
        ("CreateSecret",),
        {},
        {
            **REGION,
            "namePrefix": "the provider derives Name from it (checked as `name` then)",
            "recoveryWindowInDays": "sent as DeleteSecret.RecoveryWindowInDays on delete",
        },
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": ApiMapping(
        "secretsmanager", ("PutSecretValue",), {}, REGION
    ),
    # SES v2 (the CRM's mail)
    "aws:sesv2/configurationSet:ConfigurationSet": ApiMapping(
        "sesv2", ("CreateConfigurationSet",), {}, REGION
    ),
    "aws:sesv2/emailIdentity:EmailIdentity": ApiMapping(
        "sesv2", ("CreateEmailIdentity",), {}, REGION
    ),
}

_PLAN_RULE = "BackupPlan.Rules"
MAPPINGS |= {
    # AWS Backup (vaults, plan, selection, restore tests)
    "aws:backup/vault:Vault": ApiMapping(
        "backup",
        ("CreateBackupVault",),
        {"name": "BackupVaultName", "kmsKeyArn": "EncryptionKeyArn", "tags": "BackupVaultTags"},
        {**REGION, "forceDestroy": "the provider deletes the vault's recovery points first"},
    ),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": ApiMapping(
        "backup", ("PutBackupVaultLockConfiguration",), {}, REGION
    ),
    "aws:backup/vaultNotifications:VaultNotifications": ApiMapping(
        "backup", ("PutBackupVaultNotifications",), {}, REGION
    ),
    "aws:backup/plan:Plan": ApiMapping(
        "backup",
        ("CreateBackupPlan",),
        {
            "name": "BackupPlan.BackupPlanName",
            "tags": "BackupPlanTags",
            "rules.targetVaultName": f"{_PLAN_RULE}.TargetBackupVaultName",
            "rules.schedule": f"{_PLAN_RULE}.ScheduleExpression",
            "rules.startWindow": f"{_PLAN_RULE}.StartWindowMinutes",
            "rules.completionWindow": f"{_PLAN_RULE}.CompletionWindowMinutes",
            "rules.lifecycle.deleteAfter": f"{_PLAN_RULE}.Lifecycle.DeleteAfterDays",
            "rules.copyActions.destinationVaultArn": (
                f"{_PLAN_RULE}.CopyActions.DestinationBackupVaultArn"
            ),
            "rules.copyActions.lifecycle.deleteAfter": (
                f"{_PLAN_RULE}.CopyActions.Lifecycle.DeleteAfterDays"
            ),
        },
        REGION,
        roots=("BackupPlan",),
    ),
    "aws:backup/selection:Selection": ApiMapping(
        "backup",
        ("CreateBackupSelection",),
        {"planId": "BackupPlanId", "name": "BackupSelection.SelectionName"},
        REGION,
        roots=("BackupSelection",),
    ),
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": ApiMapping(
        "backup",
        ("CreateRestoreTestingPlan",),
        {"name": "RestoreTestingPlan.RestoreTestingPlanName"},
        REGION,
        roots=("RestoreTestingPlan",),
    ),
    "aws:backup/restoreTestingSelection:RestoreTestingSelection": ApiMapping(
        "backup",
        ("CreateRestoreTestingSelection",),
        {"name": "RestoreTestingSelection.RestoreTestingSelectionName"},
        REGION,
        roots=("RestoreTestingSelection",),
    ),
    # Alarms: the encrypted SNS topic and CloudWatch metric alarms
    "aws:sns/topic:Topic": ApiMapping(
        "sns",
        ("CreateTopic",),
        # Topic settings travel as CreateTopic's Attributes map (KmsMasterKeyId, ...).
        {"kmsMasterKeyId": "Attributes.value"},
        {**REGION, "namePrefix": "the provider derives Name from it (checked as `name` then)"},
    ),
    "aws:sns/topicPolicy:TopicPolicy": ApiMapping(
        "sns",
        ("SetTopicAttributes",),
        {"arn": "TopicArn", "policy": "AttributeValue"},  # AttributeName "Policy"
        REGION,
    ),
    "aws:sns/topicSubscription:TopicSubscription": ApiMapping(
        "sns", ("Subscribe",), {"topic": "TopicArn"}, REGION
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ApiMapping(
        "cloudwatch", ("PutMetricAlarm",), {"name": "AlarmName"}, REGION
    ),
    # WAF: the load balancer's web ACL
    "aws:wafv2/webAcl:WebAcl": ApiMapping("wafv2", ("CreateWebACL",), {}, REGION),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ApiMapping(
        "wafv2", ("AssociateWebACL",), {}, REGION
    ),
    # The edge's first-start rules and the runner's webhook
    "aws:lb/listenerRule:ListenerRule": ApiMapping(
        "elbv2",
        ("CreateRule",),
        {"conditions.sourceIp": "Conditions.SourceIpConfig"},
        REGION,
    ),
    "aws:codebuild/webhook:Webhook": ApiMapping(
        "codebuild",
        ("CreateWebhook",),
        # Pulumi's filterGroups[].filters[] is the API's list of lists of filters.
        {"filterGroups.filters": "filterGroups"},
        REGION,
    ),
}

# AWS types that call no API with their inputs (waiters), each with the reason.
UNMAPPABLE: dict[str, str] = {
    "aws:acm/certificateValidation:CertificateValidation": (
        "a waiter: polls DescribeCertificate until the certificate is issued"
    ),
}
