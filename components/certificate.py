"""A DNS-validated ACM certificate for the CRM's domain, in a Route 53 zone the user owns."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class CertificateArgs:
    """Inputs of `DnsValidatedCertificate`."""

    domain: str
    """Host name the certificate is for (e.g. crm.example.com)."""
    hosted_zone_id: str
    """Public Route 53 zone that serves the domain; validation records are written there."""


class DnsValidatedCertificate(pulumi.ComponentResource):
    """An ACM certificate that is issued before anything uses it (ACM validates it by DNS)."""

    certificate_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:edge:DnsValidatedCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            name,
            domain_name=args.domain,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            opts=child,
        )
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-validation",
            zone_id=args.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            name,
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=child,
        )
        self.certificate_arn = validation.certificate_arn
        self.register_outputs({"certificateArn": self.certificate_arn})
