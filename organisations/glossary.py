"""The organisation words of the portal's glossary (/glossary/)."""

from nhs_joint.registry import GlossaryEntry


def entries():
    return [
        GlossaryEntry(
            "Body",
            "One of the two national bodies: NHS England (NHSE) or NHS Improvement (NHSI). They work as one "
            "organisation wherever the law allows, but each keeps its own statutory duties.",
            "body",
        ),
        GlossaryEntry(
            "ODS code",
            "The code NHS Digital's Organisation Data Service gives every NHS organisation, region and "
            "partnership: for example, Y56 for the London region. The portal shows it beside the name.",
            "ods-code",
        ),
        GlossaryEntry(
            "Statutory duty",
            "Something the law requires one body to do. Joint work may never cut across it, so every "
            "programme names the body that is accountable and under which duty.",
            "statutory-duty",
        ),
    ]
