"""Plausible cloud answers for the mock runtime, and the monitor that records registrations.

Computed outputs (ids, ARNs, endpoints) are derived from the inputs deterministically, so two
syntheses of the same stack are identical and dependent inputs resolve to realistic values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from .aws_data import partition_of, service_principal_suffix
from .model import SECRET_SIG_KEY, STACK_TYPE, PlannedResource, is_secret, unwrap

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # the engine's marker value for secrets

ACCOUNT_ID = "123456789012"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
ELB_SERVICE_ACCOUNTS = Path(__file__).resolve().parent.parent / "data/elb_service_accounts.json"


@cache
def elb_service_accounts() -> dict[str, str]:
    """What the provider's `aws.elb.getServiceAccount` answers, per region (its own table,
    recorded with its source in the data file)."""
    return json.loads(ELB_SERVICE_ACCOUNTS.read_text())["accounts"]


_ZONE_SUFFIXES = ("a", "b", "c")


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _service(type_token: str) -> str:
    """`aws:ec2/vpc:Vpc` → `ec2`."""
    return type_token.split(":")[1].split("/")[0]


def _arn(service: str, region: str, resource: str, *, scope: str | None = None) -> str:
    """An ARN in the region's partition (`scope` "" for global services such as IAM)."""
    where = region if scope is None else scope
    return f"arn:{partition_of(region).name}:{service}:{where}:{ACCOUNT_ID}:{resource}"


def _host(region: str, *labels: str) -> str:
    """A service host name under the region's partition DNS suffix."""
    return ".".join((*labels, partition_of(region).dns_suffix))


def _zone_id_prefix(region: str) -> str:
    """`eu-central-1` → `euc1` (the prefix of AZ ids and ElastiCache host names)."""
    return "".join(part if len(part) <= 2 else part[0] for part in region.split("-"))


# Extra computed outputs per resource type: (name, inputs, region) → outputs.
ComputedOutputs = Callable[[str, dict[str, Any], str], dict[str, Any]]
COMPUTED: dict[str, ComputedOutputs] = {
    "aws:kms/key:Key": lambda name, inputs, region: {
        "keyId": _uuid(name),
        "arn": _arn("kms", region, f"key/{_uuid(name)}"),
    },
    "aws:ec2/eip:Eip": lambda name, inputs, region: {"allocationId": f"eipalloc-{_digest(name)}"},
    "aws:acm/certificate:Certificate": lambda name, inputs, region: {
        "arn": _arn("acm", region, f"certificate/{_uuid(name)}"),
        "domainValidationOptions": [
            {
                "domainName": inputs.get("domainName"),
                "resourceRecordName": f"_{_digest(name)}.{inputs.get('domainName')}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_digest(name, 'value')}.acm-validations.aws.",
            }
        ],
    },
    "aws:route53/record:Record": lambda name, inputs, region: {"fqdn": inputs.get("name")},
    "aws:lb/loadBalancer:LoadBalancer": lambda name, inputs, region: {
        "dnsName": _host(region, f"{name[:20]}-{_digest(name, length=10)}", region, "elb"),
        "zoneId": f"Z{_digest('zone', region, length=13).upper()}",
        "arnSuffix": f"app/{name[:32]}/{_digest(name, length=16)}",
    },
    "aws:lb/targetGroup:TargetGroup": lambda name, inputs, region: {
        "arnSuffix": f"targetgroup/{name[:32]}/{_digest(name, length=16)}",
    },
    "random:index/randomPassword:RandomPassword": lambda name, inputs, region: {
        "result": _digest("password", name, length=int(inputs.get("length", 32)))
    },
    "random:index/randomId:RandomId": lambda name, inputs, region: {
        "hex": _digest("random-id", name, length=2 * int(inputs.get("byteLength", 4)))
    },
    "aws:secretsmanager/secret:Secret": lambda name, inputs, region: _secret(name, inputs, region),
    "aws:secretsmanager/secretVersion:SecretVersion": lambda name, inputs, region: {
        # A new value is a new version, as Secrets Manager answers.
        "versionId": _uuid(f"{name}/{json.dumps(inputs.get('secretString'), default=str)}")
    },
    "kubernetes:networking.k8s.io/v1:Ingress": lambda name, inputs, region: {
        "status": {
            "loadBalancer": {
                "ingress": [{"hostname": _host(region, f"k8s-{_digest(name)}", region, "elb")}]
            }
        }
    },
    "aws:cloudwatch/logGroup:LogGroup": lambda name, inputs, region: {
        "arn": _arn("logs", region, f"log-group:{inputs.get('name', name)}")
    },
    "aws:eks/cluster:Cluster": lambda name, inputs, region: {
        "endpoint": "https://"
        + _host(region, _digest(name, length=32).upper(), "gr7", region, "eks"),
        "certificateAuthority": {"data": f"LS0tLS1CRUdJTi{_digest('ca', name, length=24)}"},
        "identities": [
            {
                "oidcs": [
                    {
                        "issuer": f"https://{_host(region, 'oidc.eks', region)}/id/"
                        f"{_digest(name, length=32).upper()}"
                    }
                ]
            }
        ],
        "vpcConfig": {
            **inputs.get("vpcConfig", {}),
            "clusterSecurityGroupId": f"sg-{_digest('eks', name, length=17)}",
        },
    },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda name, inputs, region: {
        "arn": _arn(
            "iam",
            region,
            f"oidc-provider/{str(inputs.get('url', name)).removeprefix('https://')}",
            scope="",
        )
    },
    "aws:ec2/launchTemplate:LaunchTemplate": lambda name, inputs, region: {
        "id": f"lt-{_digest(name, length=17)}",
        "latestVersion": 1,
    },
    "aws:rds/instance:Instance": lambda name, inputs, region: _rds_instance(name, inputs, region),
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda name, inputs, region: (
        _replication_group(inputs, region)
    ),
    "aws:sesv2/emailIdentity:EmailIdentity": lambda name, inputs, region: {
        "arn": _arn("ses", region, f"identity/{inputs.get('emailIdentity')}"),
        # Easy DKIM: SES answers three tokens, one CNAME record each.
        "dkimSigningAttributes": {
            **inputs.get("dkimSigningAttributes", {}),
            "tokens": [_digest("dkim", name, str(i), length=32) for i in range(3)],
        },
    },
    "aws:sesv2/configurationSet:ConfigurationSet": lambda name, inputs, region: {
        "arn": _arn("ses", region, f"configuration-set/{inputs.get('configurationSetName')}")
    },
    "aws:iam/accessKey:AccessKey": lambda name, inputs, region: {
        "id": f"AKIA{_digest('key', name, length=16).upper()}",
        "secret": _digest("secret", name, length=40),
        "sesSmtpPasswordV4": _digest("smtp", name, length=44),
    },
    "aws:s3/bucket:Bucket": lambda name, inputs, region: _bucket(
        inputs.get("bucket") or f"{inputs.get('bucketPrefix', name)}{_digest(name, length=12)}",
        region,
    ),
}


def _secret(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Secrets Manager appends six random characters to the name in the ARN (`secret:<name>-`
    `<6>`), which IAM policies must match."""
    secret_name = inputs.get("name") or f"{inputs.get('namePrefix', name)}{_digest(name)}"
    arn = _arn("secretsmanager", region, f"secret:{secret_name}-{_digest('arn', name, length=6)}")
    return {"id": arn, "arn": arn, "name": secret_name}


def _bucket(bucket: str, region: str) -> dict[str, Any]:
    return {
        "id": bucket,
        "bucket": bucket,
        "arn": f"arn:{partition_of(region).name}:s3:::{bucket}",
        "region": region,
        "bucketRegionalDomainName": _host(region, bucket, "s3", region),
    }


def _uuid(name: str) -> str:
    raw = _digest(name, length=32)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _rds_instance(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Endpoint, ARN (`:db:<identifier>`) and, with a managed password, the master secret."""
    identifier = inputs.get("identifier", name)
    address = _host(region, identifier, f"c{_digest(ACCOUNT_ID, region, length=11)}", region, "rds")
    port = int(inputs.get("port", 5432))
    resource_id = f"db-{_digest(name, length=26).upper()}"
    state: dict[str, Any] = {
        "id": resource_id,
        "resourceId": resource_id,
        "address": address,
        "port": port,
        "endpoint": f"{address}:{port}",
        "arn": _arn("rds", region, f"db:{identifier}"),
    }
    if inputs.get("manageMasterUserPassword"):
        state["masterUserSecrets"] = [
            {
                "secretArn": _arn(
                    "secretsmanager",
                    region,
                    f"secret:rds!db-{_uuid(name)}-{_digest('secret', name, length=6)}",
                ),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"),
                "secretStatus": "active",
            }
        ]
    return state


def _replication_group(inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """ElastiCache endpoints: `master.`/`replica.<id>.<hash>.<region code>.cache.amazonaws.com`."""
    group_id = inputs["replicationGroupId"]
    code = _zone_id_prefix(region)
    host = _host(region, group_id, _digest(group_id, length=6), code, "cache")
    return {
        "id": group_id,
        "arn": _arn("elasticache", region, f"replicationgroup:{group_id}"),
        "primaryEndpointAddress": f"master.{host}",
        "readerEndpointAddress": f"replica.{host}",
        "port": int(inputs.get("port", 6379)),
    }


class OfflineMocks(Mocks):
    """Answers resource registrations and invokes like a freshly created stack would."""

    def __init__(
        self, default_region: str, references: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.default_region = default_region
        self.references = dict(references or {})
        """Outputs of the stacks a `StackReference` may name (the platform's, offline)."""
        self._provider_regions: dict[str, str] = {}

    def _stack_reference(self, name: str) -> tuple[str, dict]:
        if name not in self.references:
            raise LookupError(f"no offline outputs for stack reference {name!r}")
        outputs = self.references[name]
        return name, {
            "name": name,
            "outputs": unwrap(dict(outputs)),
            "secretOutputNames": sorted(k for k, v in outputs.items() if is_secret(v)),
        }

    def _region(self, args: MockResourceArgs) -> str:
        if isinstance(args.inputs.get("region"), str):
            return args.inputs["region"]
        provider_name = (args.provider or "").split("::")[3:4]
        return self._provider_regions.get("".join(provider_name), self.default_region)

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args.inputs["name"])
        if args.typ == "pulumi:providers:aws":
            self._provider_regions[args.name] = args.inputs.get("region", self.default_region)
            return f"{args.name}-id", dict(args.inputs)
        region = self._region(args)
        physical = args.inputs.get("name") or f"{args.name}-{_digest(args.name, length=7)}"
        service = _service(args.typ)
        scope = "" if service in ("iam", "route53", "cloudfront") else region
        kind = args.typ.split(":")[-1].lower()
        state = {
            "id": f"{args.name}-{_digest(args.typ, args.name)}",
            "name": physical,
            "arn": _arn(service, region, f"{kind}/{physical}", scope=scope),
            **args.inputs,
        }
        if args.typ in COMPUTED:
            state |= COMPUTED[args.typ](args.name, args.inputs, region)
        return state["id"], state

    def call(self, args: MockCallArgs) -> dict:
        region = args.args.get("region") or self.default_region
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{suffix}" for suffix in _ZONE_SUFFIXES]
            prefix = _zone_id_prefix(region)
            return {"names": names, "zoneIds": [f"{prefix}-az{i + 1}" for i in range(len(names))]}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": _arn("iam", region, "user/offline", scope=""),
                "userId": "AIDAOFFLINE",
            }
        if args.token == "aws:index/getPartition:getPartition":
            partition = partition_of(region)
            return {
                "id": partition.name,
                "partition": partition.name,
                "dnsSuffix": partition.dns_suffix,
            }
        if args.token == "aws:elb/getServiceAccount:getServiceAccount":
            if region not in elb_service_accounts():  # as the provider fails
                raise ValueError(f"Unknown region ({region!r})")
            account = elb_service_accounts()[region]
            arn = f"arn:{partition_of(region).name}:iam::{account}:root"
            return {"id": account, "arn": arn, "region": region}
        if args.token == "aws:index/getServicePrincipal:getServicePrincipal":
            return _service_principal(args.args["serviceName"], region)
        if args.token == "aws:kms/getKey:getKey":
            key = _uuid(str(args.args.get("keyId")))
            return {
                "id": key,
                "keyId": key,
                "arn": _arn("kms", region, f"key/{key}"),
                "enabled": True,
            }
        if args.token == "aws:eks/getAddonVersion:getAddonVersion":
            # AWS's default version for the Kubernetes version cannot be known offline.
            return {**args.args, "id": args.args["addonName"], "version": "v0.0.0-offline"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region}
        if args.token == "aws:iam/getSessionContext:getSessionContext":
            # The offline caller is an IAM user, which the data source passes through as is.
            return {
                "arn": args.args["arn"],
                "issuerArn": args.args["arn"],
                "issuerId": "AIDAOFFLINE",
                "issuerName": "offline",
                "sessionName": "",
            }
        return {}


def _service_principal(service: str, region: str) -> dict[str, Any]:
    suffix = service_principal_suffix(service, region)
    return {
        "id": f"{service}.{region}.{suffix}",
        "name": f"{service}.{suffix}",
        "suffix": suffix,
        "region": region,
        "serviceName": service,
    }


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: str) -> float:
    """Seconds of a custom-timeout string as the SDK sends it (Go durations: "1h30m", "600s")."""
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text or ""))


def _mark_secret_outputs(state: struct_pb2.Struct, keys: list[str]) -> None:
    """Wrap the outputs a resource declares secret (e.g. a random password's `result`) the way
    the engine does, so the program sees them as secrets offline too."""
    for key in keys:
        if key in state.fields:
            wrapped = struct_pb2.Struct()
            wrapped[SECRET_SIG_KEY] = SECRET_SIG
            wrapped.fields["value"].CopyFrom(state.fields[key])
            state.fields[key].struct_value.CopyFrom(wrapped)


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration the way the engine would receive it."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        _mark_secret_outputs(response.object, request.additionalSecretOutputs)
        if request.type != STACK_TYPE:
            self.recorded.append(
                PlannedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent or None,
                    # A provider reference is "<urn>::<id>".
                    provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                    inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(value.urns) for key, value in request.propertyDependencies.items()
                    },
                    protect=bool(request.protect),
                    ignore_changes=list(request.ignoreChanges),
                    aliases=[alias.urn or alias.spec.name for alias in request.aliases],
                    create_timeout=duration_seconds(request.customTimeouts.create),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                )
            )
        return response

    def ReadResource(self, request):  # noqa: N802 (gRPC method name)
        """Reads (a `StackReference` above all) are part of the graph the engine sees too."""
        response = super().ReadResource(request)
        self.recorded.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                parent=request.parent or None,
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                inputs=rpc.deserialize_properties(request.properties, keep_unknowns=True),
                dependencies=list(request.dependencies),
                property_dependencies={},
                protect=False,
                ignore_changes=[],
                aliases=[],
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 (gRPC method name)
        if "::" + STACK_TYPE + "::" in request.urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)
