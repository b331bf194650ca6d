"""The report words of the portal's glossary (/glossary/): one entry per registered rule, so a new rule
appears there by being declared."""

from django.utils.text import capfirst

from nhs_joint.registry import GlossaryEntry
from nhs_joint.words import with_article

from .rules import all_rules, rule_name


def entries():
    found = [
        GlossaryEntry(
            "Finding",
            "Something a report found that may be a problem. Staff of the bodies concerned can record that it "
            "is not a problem, with a reason; it then stays hidden until one of its records changes.",
            "finding",
        ),
        GlossaryEntry(
            "Severity",
            "How much a finding matters: high, medium or low, set by the rule that found it.",
            "severity",
        ),
    ]
    for rule in all_rules().values():
        found.append(
            GlossaryEntry(
                rule_name(rule.code),
                f"{rule.summary} ({capfirst(with_article(rule.severity))} severity check of the {rule.kind} report.)",
                f"rule-{rule.code}",
            )
        )
    return found
