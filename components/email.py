"""`Email`: the CRM's outgoing mail through Amazon SES, in the stack's own region.

A domain identity signed with Easy DKIM (its three CNAME records in the domain's Route 53
zone), a configuration set that requires TLS to receiving servers, and an SMTP identity that
may only send from that identity through that configuration set. Twenty speaks SMTP, and SES
SMTP credentials belong to an IAM user: its access key's `ses_smtp_password_v4` is the SMTP
password, stored in a Secrets Manager secret encrypted with the email key, never in config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

DKIM_TOKENS = 3
"""Easy DKIM always returns three tokens (SES Developer Guide, "Easy DKIM")."""
DKIM_TARGET = "dkim.amazonses.com"
"""Each token's CNAME points at `<token>.dkim.amazonses.com` (SES Developer Guide)."""
DKIM_TTL = 1800


def smtp_host(region: str, dns_suffix: str) -> str:
    """The regional SMTP interface (SES Developer Guide, "Connecting to an SMTP endpoint")."""
    return f"email-smtp.{region}.{dns_suffix}"


@dataclass(frozen=True)
class EmailArgs:
    """Inputs of `Email`."""

    domain: str
    """Mail domain: the identity SES verifies and signs for (the CRM's host name)."""
    region: str
    """Region of the identity and SMTP endpoint (the stack's: mail stays resident)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key of the SMTP credentials' secret."""
    hosted_zone_id: str | None = None
    """Route 53 zone of the domain for the DKIM records; without one, publish the tokens
    (output `dkimTokens`) yourself."""


def sending_policy(identity_arn: str, configuration_set_arn: str) -> str:
    """Send raw mail (what SMTP uses) from the identity, through the configuration set only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "SendThroughTheCrmIdentity",
                    "Effect": "Allow",
                    "Action": "ses:SendRawEmail",
                    "Resource": [identity_arn, configuration_set_arn],
                }
            ],
        }
    )


class Email(pulumi.ComponentResource):
    """Identity, DKIM records, configuration set, SMTP sender and its secret."""

    def __init__(self, name: str, args: EmailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("crm-platform:email:Email", name, None, opts)
        self._name, self._args = name, args
        configuration_set = aws.sesv2.ConfigurationSet(
            name,
            configuration_set_name=name,
            delivery_options=aws.sesv2.ConfigurationSetDeliveryOptionsArgs(tls_policy="REQUIRE"),
            reputation_options=aws.sesv2.ConfigurationSetReputationOptionsArgs(
                reputation_metrics_enabled=True
            ),
            opts=self._child(),
        )
        identity = aws.sesv2.EmailIdentity(
            name,
            email_identity=args.domain,
            configuration_set_name=configuration_set.configuration_set_name,
            dkim_signing_attributes=aws.sesv2.EmailIdentityDkimSigningAttributesArgs(
                next_signing_key_length="RSA_2048_BIT"
            ),
            opts=self._child(),
        )
        self.dkim_tokens = identity.dkim_signing_attributes.apply(lambda a: a.tokens)
        if args.hosted_zone_id:
            self._dkim_records(args.hosted_zone_id)
        self.secret_arn = self._smtp_credentials(identity.arn, configuration_set.arn)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.smtp_host = partition.dns_suffix.apply(lambda suffix: smtp_host(args.region, suffix))
        self.register_outputs(
            {
                "smtpHost": self.smtp_host,
                "secretArn": self.secret_arn,
                "dkimTokens": self.dkim_tokens,
            }
        )

    def _child(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)

    def _dkim_records(self, zone_id: str) -> None:
        for index in range(DKIM_TOKENS):
            token = self.dkim_tokens.apply(lambda tokens, i=index: tokens[i])
            aws.route53.Record(
                f"{self._name}-dkim-{index}",
                zone_id=zone_id,
                name=token.apply(lambda t: f"{t}._domainkey.{self._args.domain}"),
                type="CNAME",
                records=[token.apply(lambda t: f"{t}.{DKIM_TARGET}")],
                ttl=DKIM_TTL,
                opts=self._child(),
            )

    def _smtp_credentials(
        self, identity_arn: pulumi.Output[str], configuration_set_arn: pulumi.Output[str]
    ) -> pulumi.Output[str]:
        """An IAM user that can only send through the identity, its SMTP password, and the
        CMK-encrypted secret External Secrets reads (`username`, `password`)."""
        name = self._name
        user = aws.iam.User(f"{name}-smtp", path="/crm-platform/ses-smtp/", opts=self._child())
        aws.iam.UserPolicy(
            f"{name}-smtp-send",
            user=user.name,
            policy=pulumi.Output.all(identity_arn, configuration_set_arn).apply(
                lambda arns: sending_policy(*arns)
            ),
            opts=self._child(),
        )
        key = aws.iam.AccessKey(f"{name}-smtp", user=user.name, opts=self._child())
        secret = aws.secretsmanager.Secret(
            f"{name}-smtp",
            name_prefix=f"{name}-smtp-",
            description="SES SMTP credentials of the CRM (username, password)",
            kms_key_id=self._args.kms_key_arn,
            opts=self._child(),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-smtp",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.json_dumps({"username": key.id, "password": key.ses_smtp_password_v4})
            ),
            opts=self._child(),
        )
        return secret.arn
