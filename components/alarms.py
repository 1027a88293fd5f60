"""Alarms that page: CloudWatch metric alarms publishing to one CMK-encrypted SNS topic.

The topic's key is customer-managed because the AWS managed SNS key cannot be granted to
CloudWatch, so alarms could not publish to a topic encrypted with it. What each alarm watches,
and its threshold, is the caller's (the stack derives them from the profile).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .encryption import ALERT_PUBLISHERS
from .iam import service_principal


@dataclass(frozen=True)
class MetricAlarm:
    """One alarm on one CloudWatch metric."""

    name: str
    """Short label, unique within the component (`db-cpu`)."""
    description: str
    """What it means and what to look at first (shown in the page)."""
    namespace: str
    metric: str
    dimensions: Mapping[str, pulumi.Input[str]]
    threshold: float
    comparison: str = "GreaterThanOrEqualToThreshold"
    statistic: str = "Average"
    """A statistic (Average, Sum, Maximum, Minimum) or a percentile such as `p99`."""
    period_seconds: int = 300
    evaluation_periods: int = 3
    datapoints_to_alarm: int | None = None
    """Of `evaluation_periods`; None: all of them."""
    treat_missing_data: str = "missing"


@dataclass(frozen=True)
class AlarmsArgs:
    """Inputs of `Alarms`."""

    topic_name: str
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key whose policy lets the publishers use it (`KeyDomain.ALERTS`)."""
    emails: Sequence[str] = ()
    """Subscribed addresses (each confirms the subscription once)."""
    alarms: Sequence[MetricAlarm] = field(default_factory=tuple)


class Alarms(pulumi.ComponentResource):
    """The encrypted topic, its policy, its subscriptions and the metric alarms."""

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("crm-platform:operations:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            name, name=args.topic_name, kms_master_key_id=args.kms_key_arn, opts=child
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        aws.sns.TopicPolicy(
            name,
            arn=self.topic.arn,
            policy=pulumi.Output.json_dumps(
                _topic_policy(self.topic.arn, account, partition, self._publishers())
            ),
            opts=child,
        )
        for index, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )
        self.alarms = [self._alarm(name, alarm) for alarm in args.alarms]
        self.topic_arn = self.topic.arn
        self.register_outputs({"topicArn": self.topic.arn})

    def _publishers(self) -> list[pulumi.Output[str]]:
        return [service_principal(service, self) for service in ALERT_PUBLISHERS]

    def _alarm(self, prefix: str, alarm: MetricAlarm) -> aws.cloudwatch.MetricAlarm:
        percentile = alarm.statistic.startswith("p")
        return aws.cloudwatch.MetricAlarm(
            f"{prefix}-{alarm.name}",
            name=f"{prefix}-{alarm.name}",
            alarm_description=alarm.description,
            namespace=alarm.namespace,
            metric_name=alarm.metric,
            dimensions=dict(alarm.dimensions),
            statistic=None if percentile else alarm.statistic,
            extended_statistic=alarm.statistic if percentile else None,
            period=alarm.period_seconds,
            evaluation_periods=alarm.evaluation_periods,
            datapoints_to_alarm=alarm.datapoints_to_alarm,
            threshold=alarm.threshold,
            comparison_operator=alarm.comparison,
            treat_missing_data=alarm.treat_missing_data,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=pulumi.ResourceOptions(parent=self),
        )


def _topic_policy(
    topic_arn: pulumi.Output[str],
    account: pulumi.Output[str],
    partition: pulumi.Output[str],
    publishers: list[pulumi.Output[str]],
) -> dict:
    """The account administers the topic; the publishing services act only for this account
    (no confused deputy)."""
    root = pulumi.Output.concat("arn:", partition, ":iam::", account, ":root")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
            },
            {
                "Sid": "ServicesPublishForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": publishers},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            },
        ],
    }
