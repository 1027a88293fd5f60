"""A stack shaped like the one crm-platform deploys (~250 resources), as the offline plan sees it
during preview: ids and ARNs of resources of the stack are unknown, references are property
dependencies. `dev=True` relaxes what the dev profile relaxes.
"""

from __future__ import annotations

from typing import Any

from .fixtures import (
    AWS_PROVIDER,
    DELETE,
    DESCRIBE_ANYTHING,
    K8S_PROVIDER,
    REGION,
    S3_ACCESS,
    UNKNOWN,
    app_secret,
    backup_plan,
    backup_selection,
    backup_vault,
    bucket,
    bucket_logging,
    cache,
    change,
    container,
    db_primary,
    db_replica,
    deployment,
    eks_cluster,
    flow_log,
    hpa,
    job,
    kms_key,
    launch_template,
    listener,
    load_balancer,
    locked_bucket,
    log_bucket,
    log_group,
    namespace,
    node_group,
    parameter_group,
    pod_spec,
    policy_json,
    resource,
    role,
    rotation,
    security_group,
    sse,
    stack_owned_master_secret,
    vault_lock,
    vpc,
    waf_association,
    with_timeout,
)

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)


def _network(dev: bool) -> list[dict[str, Any]]:
    network = vpc()
    zones = ["a", "b"] if dev else ["a", "b", "c"]
    found = [
        network,
        flow_log(network),
        log_group(retentionInDays=30 if dev else 365),
        resource(
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            "default-sg",
            {"vpcId": UNKNOWN, "ingress": [], "egress": []},
            deps={"vpcId": [network]},
        ),
        resource(
            "aws:ec2/internetGateway:InternetGateway",
            "igw",
            {"vpcId": UNKNOWN},
            deps={"vpcId": [network]},
        ),
        security_group("endpoints"),
    ]
    for tier in ("public", "private", "database"):
        for zone in zones:
            subnet = resource(
                "aws:ec2/subnet:Subnet",
                f"{tier}-{zone}",
                {
                    "vpcId": UNKNOWN,
                    "cidrBlock": "10.0.0.0/24",
                    "availabilityZone": f"{REGION}{zone}",
                    "mapPublicIpOnLaunch": False,
                },
                deps={"vpcId": [network]},
            )
            table = resource(
                "aws:ec2/routeTable:RouteTable",
                f"{tier}-{zone}-rt",
                {"vpcId": UNKNOWN},
                deps={"vpcId": [network]},
            )
            association = resource(
                "aws:ec2/routeTableAssociation:RouteTableAssociation",
                f"{tier}-{zone}-rta",
                {"subnetId": UNKNOWN, "routeTableId": UNKNOWN},
                deps={"subnetId": [subnet], "routeTableId": [table]},
            )
            found += [subnet, table, association]
    for service in ("ecr.api", "ecr.dkr", "sts", "logs", "kms", "secretsmanager"):
        found.append(
            resource(
                "aws:ec2/vpcEndpoint:VpcEndpoint",
                f"endpoint-{service}",
                {
                    "vpcId": UNKNOWN,
                    "serviceName": f"com.amazonaws.{REGION}.{service}",
                    "vpcEndpointType": "Interface",
                    "privateDnsEnabled": True,
                },
                deps={"vpcId": [network]},
            )
        )
    for index in range(20):
        found.append(
            resource(
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                f"rule-{index}",
                {
                    "securityGroupId": UNKNOWN,
                    "ipProtocol": "tcp",
                    "fromPort": 5432,
                    "toPort": 5432,
                    "referencedSecurityGroupId": UNKNOWN,
                    "description": "Postgres from the nodes",
                },
            )
        )
    return found


def _data(dev: bool) -> list[dict[str, Any]]:
    keys = [kms_key(name) for name in ("data-key", "logs-key", "eks-key")]
    aliases = [
        resource(
            "aws:kms/alias:Alias",
            f"{key['name']}-alias",
            {"name": f"alias/crm/{key['name']}", "targetKeyId": UNKNOWN},
            deps={"targetKeyId": [key]},
        )
        for key in keys
    ]
    database = db_primary(kmsKeyId=UNKNOWN)
    if dev:
        database = change(
            database,
            multiAz=False,
            backupRetentionPeriod=1,
            deletionProtection=False,
            skipFinalSnapshot=True,
        )
    replicas = [] if dev else [db_replica(database, f"db-replica-{i}") for i in (1, 2)]
    password, master, version = stack_owned_master_secret()
    rds = [
        database,
        password,
        change(master, kmsKeyId=UNKNOWN),
        version,
        *replicas,
        parameter_group(),
        resource("aws:rds/subnetGroup:SubnetGroup", "db-subnets", {"subnetIds": [UNKNOWN] * 3}),
    ]
    redis = cache(kmsKeyId=UNKNOWN)
    if dev:
        redis = change(
            redis,
            numCacheClusters=1,
            automaticFailoverEnabled=False,
            multiAzEnabled=False,
            snapshotRetentionLimit=1,
        )
    attachments, alb_logs = bucket(), log_bucket()
    storage = [
        *locked_bucket(attachments),
        sse(attachments),
        bucket_logging(attachments, alb_logs),
        *locked_bucket(alb_logs, versioned=False),
        sse(alb_logs, "AES256"),
    ]
    secret = app_secret()
    backups = _backups(dev, database, attachments)
    rotations = [rotation(secret), change(rotation(master), "db-master-rotation")]
    return [*keys, *aliases, *rds, redis, *storage, secret, *rotations, *backups]


def _backups(dev: bool, *targets: dict[str, Any]) -> list[dict[str, Any]]:
    """A locked vault (compliance mode in prod, governance in dev) and a plan covering targets."""
    vault = backup_vault()
    lock = vault_lock(vault, changeableForDays=DELETE) if dev else vault_lock(vault)
    plan = backup_plan(vault)
    return [vault, lock, plan, backup_selection(plan, *targets)]


def _cluster(dev: bool) -> list[dict[str, Any]]:
    cluster = eks_cluster()
    found = [cluster, launch_template()]
    sizes = {"minSize": 1, "maxSize": 3, "desiredSize": 1} if dev else None
    subnets = ["subnet-a", "subnet-b"] if dev else None
    for pool in ("system", "app"):
        group = change(node_group(), f"{pool}-nodes")
        if dev:
            group = change(group, scalingConfig=sizes, subnetIds=subnets)
        found.append(group)
    ec2_trust = policy_json(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    node_role = role(assumeRolePolicy=ec2_trust, inlinePolicies=[], managedPolicyArns=[])
    found.append(change(node_role, "node-role"))
    for policy in NODE_POLICIES:
        found.append(
            resource(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                f"node-{policy}",
                {"role": UNKNOWN, "policyArn": f"arn:aws:iam::aws:policy/{policy}"},
            )
        )
    found.append(role())  # IRSA role of the CRM
    lbc = change(role(inlinePolicies=[]), "lb-controller")
    found += [
        lbc,
        resource("aws:iam/policy:Policy", "lb-controller", {"policy": DESCRIBE_ANYTHING}),
        resource("aws:iam/rolePolicy:RolePolicy", "crm-s3", {"role": UNKNOWN, "policy": S3_ACCESS}),
        resource(
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "oidc",
            {"url": UNKNOWN, "clientIdLists": ["sts.amazonaws.com"]},
        ),
    ]
    for addon in ("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"):
        found.append(
            resource("aws:eks/addon:Addon", addon, {"clusterName": UNKNOWN, "addonName": addon})
        )
    return found


def _workloads(dev: bool) -> list[dict[str, Any]]:
    replicas = 1 if dev else 3
    server = deployment("twenty-server", spec__replicas=replicas)
    worker_spec = pod_spec(
        containers=[
            container(
                "worker",
                ports=[],
                livenessProbe={"exec": {"command": ["node", "healthcheck.js"]}},
                readinessProbe={"exec": {"command": ["node", "healthcheck.js"]}},
            )
        ]
    )
    worker = deployment("twenty-worker", spec=worker_spec, spec__replicas=replicas)
    found = [
        namespace(),
        server,
        worker,
        hpa(server, min_replicas=1 if dev else 2),
        with_timeout(change(job(), spec__activeDeadlineSeconds=1800), 1800),
        # The edge is the platform's ALB, not an Ingress (workloads bind to its target group).
        (alb := load_balancer()),
        listener("HTTPS"),
        listener("HTTP"),
        waf_association(alb),
        resource(
            "kubernetes:helm.sh/v3:Release",
            "lb-controller",
            {
                "chart": "aws-load-balancer-controller",
                "namespace": "kube-system",
                "version": "1.13.0",
            },
        ),
    ]
    simple = {
        "kubernetes:core/v1:ServiceAccount": "twenty",
        "kubernetes:core/v1:Service": "twenty",
        "kubernetes:core/v1:ConfigMap": "twenty-config",
        "kubernetes:policy/v1:PodDisruptionBudget": "twenty-server",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": "default-deny",
    }
    for kind, name in simple.items():
        props = {"metadata": {"name": name, "namespace": "crm"}}
        found.append(resource(kind, name, props))
    return found


def reference_stack(*, dev: bool = False) -> list[dict[str, Any]]:
    aws_provider = dict(
        AWS_PROVIDER,
        parent=None,
        dependencies=[],
        property_dependencies={},
        protect=False,
        provider=None,
    )
    k8s_provider = dict(
        K8S_PROVIDER,
        parent=None,
        dependencies=[],
        property_dependencies={},
        protect=False,
        provider=None,
    )
    stack = [
        aws_provider,
        k8s_provider,
        *_network(dev),
        *_data(dev),
        *_cluster(dev),
        *_workloads(dev),
    ]
    # Pad with what a real stack holds many of (tags, routes): only residency applies to them.
    for index in range(250 - len(stack)):
        stack.append(
            resource(
                "aws:ec2/route:Route",
                f"route-{index}",
                {
                    "routeTableId": UNKNOWN,
                    "destinationCidrBlock": "0.0.0.0/0",
                    "natGatewayId": UNKNOWN,
                },
            )
        )
    return stack
