"""Operating prod: locked backups copied in-jurisdiction, restore tests, the encrypted alarm
topic and its alarms, Container Insights, the Cluster Autoscaler and the WAF, judged on the
synthesized shipped stacks (cached per process) and their settings."""

from __future__ import annotations

import json

import pytest

from components.cluster.addons import ADDON_VERSIONS
from components.cluster_addons import cluster_autoscaler
from stacks.offline import Plan
from stacks.settings import SettingsError, load_settings
from tests.support import service_principal, settings_of, stack_config

VAULT = "aws:backup/vault:Vault"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
RESTORE_PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
RESTORE_SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY = "aws:kms/key:Key"
RDS = "aws:rds/instance:Instance"
BUCKET = "aws:s3/bucket:Bucket"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"


def provider_region(plan: Plan, resource) -> str:
    return plan.by_urn(resource.provider).get("region")


def domain_key(plan: Plan, domain: str, region: str | None = None):
    """The stack's key of `domain` in `region` (default: the stack's own region)."""
    region = region or plan.outputs["region"]
    (key,) = [
        k
        for k in plan.of_type(KEY)
        if k.get("tags.data-domain") == domain and provider_region(plan, k) == region
    ]
    return key


def locks_by_vault(plan: Plan) -> dict[str, object]:
    return {lock.property_dependencies["backupVaultName"][0]: lock for lock in plan.of_type(LOCK)}


# --- backups ----------------------------------------------------------------------------------


def test_prod_vaults_are_cmk_encrypted_and_locked_in_compliance_mode(prod: Plan) -> None:
    backup = settings_of("prod").backup
    vaults, locks = prod.of_type(VAULT), locks_by_vault(prod)
    assert len(vaults) == 2
    for vault in vaults:
        region = provider_region(prod, vault)
        assert vault.property_dependencies["kmsKeyArn"] == [domain_key(prod, "backup", region).urn]
        lock = locks[vault.urn]
        assert lock.get("changeableForDays") == 3  # AWS Backup's minimum grace period
        assert lock.get("minRetentionDays") == backup.daily_retention_days
        assert lock.get("maxRetentionDays") == backup.monthly_retention_days
        assert vault.protect and lock.protect


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_other_stacks_lock_in_governance_mode_and_stay_destroyable(stack: str, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    (vault,) = plan.of_type(VAULT)
    lock = locks_by_vault(plan)[vault.urn]
    assert lock.get("changeableForDays") is None
    assert not vault.protect and not lock.protect


def test_prod_copies_daily_points_to_another_allowed_region(prod: Plan) -> None:
    settings = settings_of("prod")
    (plan,) = prod.of_type(PLAN)
    (copy_vault,) = [v for v in prod.of_type(VAULT) if provider_region(prod, v) != settings.region]
    copy_region = provider_region(prod, copy_vault)
    assert copy_region in settings.residency.allowed_regions
    daily = next(rule for rule in plan.get("rules") if rule["ruleName"] == "daily")
    (action,) = daily["copyActions"]
    assert action["destinationVaultArn"].split(":")[3] == copy_region
    assert copy_vault.urn in plan.property_dependencies["rules"]
    assert {rule["ruleName"] for rule in plan.get("rules")} == {"daily", "monthly"}


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_cheaper_profiles_keep_one_vault_without_copies(stack: str, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    (backup_plan,) = plan.of_type(PLAN)
    assert [rule.get("copyActions") for rule in backup_plan.get("rules")] == [None]
    retention = backup_plan.get("rules")[0]["lifecycle"]["deleteAfter"]
    assert retention == settings_of(stack).backup.daily_retention_days


def test_selection_covers_the_primary_and_the_attachments_bucket(any_stack: Plan) -> None:
    (selection,) = any_stack.of_type(SELECTION)
    (primary,) = [db for db in any_stack.of_type(RDS) if not db.get("replicateSourceDb")]
    (attachments,) = [
        b for b in any_stack.of_type(BUCKET) if "attachments" in (b.get("bucket") or "")
    ]
    assert set(selection.property_dependencies["resources"]) == {primary.urn, attachments.urn}
    assert selection.property_dependencies["planId"] == [any_stack.one(PLAN).urn]


def test_restore_tests_restore_the_primary_weekly_where_the_profile_asks(any_stack: Plan) -> None:
    if not settings_of(any_stack.stack).backup.restore_testing:
        assert not any_stack.of_type(RESTORE_PLAN)
        return
    test_plan, selection = any_stack.one(RESTORE_PLAN), any_stack.one(RESTORE_SELECTION)
    (primary,) = [db for db in any_stack.of_type(RDS) if not db.get("replicateSourceDb")]
    assert selection.get("protectedResourceType") == "RDS"
    assert selection.property_dependencies["protectedResourceArns"] == [primary.urn]
    assert test_plan.get("recoveryPointSelection.algorithm") == "LATEST_WITHIN_WINDOW"
    (home_vault,) = [
        v
        for v in any_stack.of_type(VAULT)
        if provider_region(any_stack, v) == any_stack.outputs["region"]
    ]
    assert test_plan.property_dependencies["recoveryPointSelection"] == [home_vault.urn]


def test_vault_failures_and_restore_outcomes_reach_the_alarm_topic(any_stack: Plan) -> None:
    notifications = any_stack.one("aws:backup/vaultNotifications:VaultNotifications")
    assert notifications.property_dependencies["snsTopicArn"] == [any_stack.one(TOPIC).urn]
    events = set(notifications.get("backupVaultEvents"))
    # Job outcomes arrive with the *_COMPLETED events (their State says FAILED); AWS Backup
    # sends nothing for the deprecated *_FAILED / RESTORE_JOB_SUCCESSFUL events.
    assert {"BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED", "RESTORE_JOB_COMPLETED"} <= events
    assert not events & {"BACKUP_JOB_FAILED", "RESTORE_JOB_SUCCESSFUL", "RESTORE_JOB_FAILED"}


BAD_BACKUP = [
    (
        {"residency": {"allowedRegions": ["eu-central-1"]}},
        "crm-platform:backup.crossRegionCopy: true is not allowed; it needs a second region in "
        "residency.allowedRegions (eu-central-1)",
    ),
    (
        {"backup": {"copyRegion": "eu-central-1"}},
        "crm-platform:backup.copyRegion: 'eu-central-1' is not allowed; it must be a region of "
        "residency.allowedRegions other than eu-central-1: eu-west-1.",
    ),
    (
        {"backup": {"copyRegion": "eu-west-3"}},
        "crm-platform:backup.copyRegion: 'eu-west-3' is not allowed",
    ),
    (
        {"backup": {"copyRegion": "us-east-1"}},
        "crm-platform:backup.copyRegion: 'us-east-1' is not allowed",
    ),
    (
        {"backup": {"dailyRetentionDays": 35, "monthlyRetentionDays": 30}},
        "crm-platform:backup.monthlyRetentionDays: 30 is not allowed; it must be 0 (off) or at "
        "least dailyRetentionDays (35).",
    ),
    (
        {"alarms": {"emails": ["oncall"]}},
        "crm-platform:alarms.emails.0: 'oncall' is not allowed; it must be an email address",
    ),
    (
        {"app": {"wafWebAclArn": "arn:aws:wafv2:eu-central-1:123456789012:regional/webacl/x/1a"}},
        "crm-platform:app.wafWebAclArn: 'arn:aws:wafv2:eu-central-1:123456789012:regional/webacl"
        "/x/1a' is not allowed; it replaces the stack's own web ACL; set waf.enabled: false",
    ),
    (
        {"waf": {"ratePerIpPer5Minutes": 5}},
        "crm-platform:waf.ratePerIpPer5Minutes: 5 is not allowed; it must be an integer from 10 "
        "to 2000000000.",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_BACKUP)
def test_operations_settings_fail_with_one_precise_message(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings("prod", stack_config("prod", **overrides))
    (only,) = error.value.messages
    assert only.startswith(message), only


def test_an_external_web_acl_replaces_the_stacks_own() -> None:
    arn = "arn:aws:wafv2:eu-central-1:123456789012:regional/webacl/x/1a"
    settings = load_settings(
        "prod", stack_config("prod", waf={"enabled": False}, app={"wafWebAclArn": arn})
    )
    assert settings.app.waf_web_acl_arn == arn and not settings.waf.enabled


# --- alarms -------------------------------------------------------------------------------------


def test_alarm_topic_is_encrypted_with_the_alerts_key(any_stack: Plan) -> None:
    topic = any_stack.one(TOPIC)
    assert topic.property_dependencies["kmsMasterKeyId"] == [domain_key(any_stack, "alerts").urn]
    alarms = any_stack.of_type(ALARM)
    assert alarms
    for alarm in alarms:
        assert alarm.property_dependencies["alarmActions"] == [topic.urn]
        assert alarm.property_dependencies["okActions"] == [topic.urn]


def test_alerts_key_and_topic_admit_the_publishers(any_stack: Plan) -> None:
    """CloudWatch alarms and AWS Backup notifications publish as themselves: both policies name
    their principals as the provider's data source does in the topic's region."""
    topic = any_stack.one(TOPIC)
    region = provider_region(any_stack, topic)
    expected = [service_principal(service, region)["name"] for service in ("cloudwatch", "backup")]
    key_policy = json.loads(domain_key(any_stack, "alerts", region).get("policy"))
    (publishers,) = [s for s in key_policy["Statement"] if s.get("Sid") == "AlertPublishers"]
    assert publishers["Principal"]["Service"] == expected
    assert set(publishers["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    topic_policy = json.loads(any_stack.one(TOPIC_POLICY).get("policy"))
    (services,) = [s for s in topic_policy["Statement"] if "Service" in s["Principal"]]
    assert services["Principal"]["Service"] == expected


def _alarms(plan: Plan) -> dict[tuple[str, str], list]:
    found: dict[tuple[str, str], list] = {}
    for alarm in plan.of_type(ALARM):
        found.setdefault((alarm.get("namespace"), alarm.get("metricName")), []).append(alarm)
    return found


def test_prod_alarms_cover_database_cache_balancer_nodes_and_the_crm(prod: Plan) -> None:
    settings, alarms = settings_of("prod"), _alarms(prod)
    limits = settings.alarms.thresholds
    rds = {metric: found for (ns, metric), found in alarms.items() if ns == "AWS/RDS"}
    assert {a.get("threshold") for a in rds["CPUUtilization"]} == {limits.database_cpu_percent}
    assert len(rds["ReplicaLag"]) == settings.database.read_replicas
    (connections,) = rds["DatabaseConnections"]
    assert connections.get("threshold") == settings.database.max_connections * 8 // 10
    (storage,) = rds["FreeStorageSpace"]
    assert storage.get("threshold") == limits.database_free_storage_gib * 1024**3
    assert storage.get("comparisonOperator") == "LessThanOrEqualToThreshold"
    cache = {m for (ns, m) in alarms if ns == "AWS/ElastiCache"}
    assert cache == {"DatabaseMemoryUsagePercentage", "Evictions", "CurrConnections"}
    assert len(alarms[("AWS/ElastiCache", "Evictions")]) == settings.cache.nodes
    nodes = {m for (ns, m) in alarms if ns == "ContainerInsights"}
    assert {"node_cpu_utilization", "node_memory_utilization", "cluster_failed_node_count"} <= nodes


def test_balancer_alarms_watch_the_platforms_alb_and_target_group(prod: Plan) -> None:
    alarms = _alarms(prod)
    load_balancer = prod.one("aws:lb/loadBalancer:LoadBalancer")
    target_group = prod.one("aws:lb/targetGroup:TargetGroup")
    for metric in ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount"):
        (alarm,) = alarms[("AWS/ApplicationELB", metric)]
        assert load_balancer.urn in alarm.property_dependencies["dimensions"]
        assert alarm.get("dimensions.LoadBalancer").startswith("app/")
    (healthy,) = alarms[("AWS/ApplicationELB", "HealthyHostCount")]
    assert target_group.urn in healthy.property_dependencies["dimensions"]
    assert healthy.get("threshold") == settings_of("prod").app.capacity.min_server_pods
    assert healthy.get("treatMissingData") == "breaching"  # no datapoint: no target at all
    (latency,) = alarms[("AWS/ApplicationELB", "TargetResponseTime")]
    assert latency.get("extendedStatistic") == "p99" and latency.get("statistic") is None


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_thresholds_follow_the_profile(stack: str, request, prod: Plan) -> None:
    plan: Plan = request.getfixturevalue(stack)
    for name in ("db-cpu", "alb-latency-p99", "nodes-memory"):
        mine = plan.named(f"{stack}-alarms-{name}").get("threshold")
        assert mine >= prod.named(f"prod-alarms-{name}").get("threshold")
    limits = settings_of(stack).alarms.thresholds
    assert plan.named(f"{stack}-alarms-db-cpu").get("threshold") == limits.database_cpu_percent


# --- Container Insights and the Cluster Autoscaler ---------------------------------------------


def _irsa_subject(role) -> str:
    statement = json.loads(role.get("assumeRolePolicy"))["Statement"][0]
    (subject,) = [
        v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
    ]
    return subject


def test_container_insights_add_on_runs_with_its_own_role_and_encrypted_logs(prod: Plan) -> None:
    (addon,) = [
        a
        for a in prod.of_type("aws:eks/addon:Addon")
        if a.get("addonName") == "amazon-cloudwatch-observability"
    ]
    (role_urn,) = addon.property_dependencies["serviceAccountRoleArn"]
    assert (
        _irsa_subject(prod.by_urn(role_urn))
        == "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent"
    )
    groups = [
        g
        for g in prod.of_type("aws:cloudwatch/logGroup:LogGroup")
        if "containerinsights" in (g.get("name") or "")
    ]
    assert len(groups) == 4
    assert all(
        g.property_dependencies["kmsKeyId"] == [domain_key(prod, "logs").urn] for g in groups
    )
    node_groups = {n.urn for n in prod.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert node_groups <= set(addon.dependencies)


def test_autoscaler_role_scales_only_this_clusters_node_groups(prod: Plan) -> None:
    (role,) = [r for r in prod.of_type(ROLE) if r.name.endswith("cluster-autoscaler")]
    assert _irsa_subject(role) == "system:serviceaccount:kube-system:cluster-autoscaler"
    (policy,) = [p for p in prod.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == role.name]
    scale = json.loads(policy.get("policy"))["Statement"][1]
    cluster = prod.one("aws:eks/cluster:Cluster").get("name")
    assert scale["Condition"]["StringEquals"] == {
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"
    }


def test_autoscaler_release_matches_the_cluster_version(any_stack: Plan) -> None:
    (release,) = [r for r in any_stack.of_type(RELEASE) if r.get("chart") == "cluster-autoscaler"]
    settings = settings_of(any_stack.stack)
    assert release.get("version") == cluster_autoscaler.CHART_VERSION
    assert (
        release.get("values.image.tag")
        == cluster_autoscaler.IMAGE_TAGS[settings.cluster.kubernetes_version]
    )
    assert release.get("values.autoDiscovery.clusterName") == any_stack.one(
        "aws:eks/cluster:Cluster"
    ).get("name")
    role_arn = release.get("values.rbac.serviceAccount.annotations")["eks.amazonaws.com/role-arn"]
    assert role_arn == any_stack.layers["platform"].outputs["clusterAutoscalerRoleArn"]


def test_every_allowed_version_has_an_autoscaler_image() -> None:
    assert set(cluster_autoscaler.IMAGE_TAGS) == set(ADDON_VERSIONS)
    assert all(tag.startswith(f"v{v}.") for v, tag in cluster_autoscaler.IMAGE_TAGS.items())


# --- WAF ----------------------------------------------------------------------------------------


def test_prod_blocks_with_managed_groups_and_a_rate_limit(prod: Plan) -> None:
    acl, association = prod.one(WEB_ACL), prod.one(ASSOCIATION)
    assert association.property_dependencies["webAclArn"] == [acl.urn]
    assert association.property_dependencies["resourceArn"] == [
        prod.one("aws:lb/loadBalancer:LoadBalancer").urn
    ]
    rules = {rule["name"]: rule for rule in acl.get("rules")}
    assert set(rules) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
        "rate-limit-per-ip",
    }
    rate = rules["rate-limit-per-ip"]
    assert rate["action"] == {"block": {}}
    limit = settings_of("prod").waf.rate_per_ip_per_5_minutes
    assert rate["statement"]["rateBasedStatement"]["limit"] == limit
    assert all(r["overrideAction"] == {"none": {}} for n, r in rules.items() if n != rate["name"])


def test_staging_counts_and_dev_has_no_web_acl(staging: Plan, dev: Plan) -> None:
    rules = staging.one(WEB_ACL).get("rules")
    assert all(r.get("overrideAction", r.get("action")) == {"count": {}} for r in rules)
    assert not dev.of_type(WEB_ACL) and not dev.of_type(ASSOCIATION)


def test_untyped_web_acl_registers_what_the_typed_sdk_would() -> None:
    """The web ACL is registered by type token for speed; the typed SDK, given the same
    snake_case inputs, must send the engine exactly the same properties."""
    import pulumi_aws as aws

    from components.waf import WEB_ACL as TOKEN
    from components.waf import WebAcl, WebAclArgs, web_acl_inputs
    from tests.support import synth_component

    args = WebAclArgs(rate_limit_per_5_minutes=500, count_only=False)

    def both(opts):
        WebAcl("acl", args, opts=opts)
        aws.wafv2.WebAcl("typed", **web_acl_inputs("acl", args), opts=opts)

    plan = synth_component(both)
    untyped, typed = plan.of_type(TOKEN)
    assert untyped.inputs == typed.inputs


def test_alarm_emails_become_topic_subscriptions() -> None:
    from components.alarms import Alarms, AlarmsArgs
    from stacks.offline.mocks import ACCOUNT_ID
    from tests.support import synth_component

    emails = ("oncall@example.com", "dba@example.com")
    plan = synth_component(
        lambda opts: Alarms("a", AlarmsArgs("t", "arn:aws:kms:eu-central-1:1:key/k", emails), opts)
    )
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.get("endpoint") for s in subscriptions) == sorted(emails)
    assert {s.get("protocol") for s in subscriptions} == {"email"}
    policy = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").get("policy"))
    (services,) = [s for s in policy["Statement"] if "Service" in s["Principal"]]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
