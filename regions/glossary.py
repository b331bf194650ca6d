"""The region and chart words of the portal's glossary (/glossary/), in the words of NHS England's
"Making data count" guidance."""

from nhs_joint.registry import GlossaryEntry

from . import spc

VARIATION_MEANINGS = {
    "common_cause": "The measure goes up and down, but only as much as it usually does. Nothing has changed.",
    "special_cause_improvement_high": "Something has changed: the measure is higher than chance would explain, "
    "and higher is better.",
    "special_cause_improvement_low": "Something has changed: the measure is lower than chance would explain, "
    "and lower is better.",
    "special_cause_concern_high": "Something has changed: the measure is higher than chance would explain, "
    "and higher is worse. Find out why.",
    "special_cause_concern_low": "Something has changed: the measure is lower than chance would explain, "
    "and lower is worse. Find out why.",
    "special_cause_neither_high": "The measure is higher than chance would explain; it has no better direction.",
    "special_cause_neither_low": "The measure is lower than chance would explain; it has no better direction.",
}
ASSURANCE_MEANINGS = {
    "pass": "The target lies outside the process limits on the good side: the measure will pass it month after "
    "month unless something changes.",
    "fail": "The target lies outside the process limits on the bad side: the measure will fail it month after "
    "month unless something changes.",
    "hit_and_miss": "The target lies between the process limits: the measure will sometimes pass and sometimes "
    "fail, by chance alone.",
}


def entries():
    return [
        GlossaryEntry(
            "Region",
            "One of the seven NHS regions, each led by one Regional Director working for both bodies.",
            "region",
        ),
        GlossaryEntry(
            "Local health system",
            "A sustainability and transformation partnership or integrated care system: the NHS organisations "
            "and councils of one area, planning together.",
            "local-health-system",
        ),
        GlossaryEntry(
            "Statistical process control (SPC) chart",
            "A chart of a measure month by month with its mean and its process limits, so that you can tell "
            "a real change from the usual ups and downs. The portal draws them the way NHS England's "
            "“Making data count” guidance describes.",
            "spc-chart",
        ),
        GlossaryEntry(
            "Process limits",
            "The lines above and below the mean within which almost every month falls by chance alone. A month "
            "outside them is very unlikely to be chance.",
            "process-limits",
        ),
        GlossaryEntry(
            "Common cause variation",
            "The usual ups and downs of a measure that come from how things work every day. Reacting to each "
            "one wastes effort; to move the measure, change the way the work is done.",
            "common-cause",
        ),
        GlossaryEntry(
            "Special cause variation",
            "A change too large or too lasting to be chance, so something has happened that is worth "
            "understanding. The portal looks for these signs, in this order:",
            "special-cause",
            (
                ("A point outside the process limits", "One month above the upper or below the lower limit."),
                (
                    "A trend",
                    f"{spc.settings_run_length()} or more months in a row each higher than the last, or each lower.",
                ),
                (
                    "Two of three points near a limit",
                    "Two of three months in a row beyond two-thirds of the way from the mean to a limit, on the "
                    "same side.",
                ),
                ("A run", f"{spc.settings_run_length()} or more months in a row on the same side of the mean."),
            ),
        ),
        GlossaryEntry(
            "Variation icons",
            "The icon beside each measure says what its latest month shows.",
            "variation-icons",
            tuple((spc.VARIATION_SHORT[key], VARIATION_MEANINGS[key]) for key in spc.VARIATION_SHORT),
        ),
        GlossaryEntry(
            "Assurance icons",
            "Where a measure has a target, the assurance icon says whether it can be relied on to meet it.",
            "assurance",
            tuple((spc.ASSURANCE_SHORT[key], ASSURANCE_MEANINGS[key]) for key in spc.ASSURANCE_SHORT),
        ),
    ]
