"""jets-iam-audit: audit IAM policies against what `jets deploy` really needs."""

__version__ = "0.1.0"
