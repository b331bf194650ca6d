"""The programme words of the portal's glossary (/glossary/)."""

from nhs_joint.registry import GlossaryEntry

from .models import Audience, Programme

STAGE_MEANINGS = {
    Programme.IntegrationStage.SEPARATE: "Each body runs its own work, with its own team and plans.",
    Programme.IntegrationStage.ALIGNED: "Each body keeps its own team, but they plan together and agree one set of aims.",
    Programme.IntegrationStage.ONE_TEAM: "One team, working for both bodies, runs the programme as one piece of work.",
}

AUDIENCE_MEANINGS = {
    Audience.PROVIDERS: "NHS trusts and other organisations that provide care.",
    Audience.COMMISSIONERS: "Clinical commissioning groups and others that plan and buy care.",
    Audience.LOCAL_SYSTEMS: "Sustainability and transformation partnerships and integrated care systems.",
}


def entries():
    return [
        GlossaryEntry(
            "Programme",
            "A piece of national work that one or both bodies run, with its own aims, dates and senior "
            "responsible owner.",
            "programme",
        ),
        GlossaryEntry(
            "Integration stage",
            "How far the two bodies run a programme together. NHS England and NHS Improvement work "
            "“as one team where possible”, so most programmes move from separate towards one team.",
            "integration-stage",
            tuple((str(label), STAGE_MEANINGS[value]) for value, label in Programme.IntegrationStage.choices),
        ),
        GlossaryEntry(
            "Workstream",
            "A part of a programme with its own lead body and regions: for example, the workforce part of a "
            "cancer programme.",
            "workstream",
        ),
        GlossaryEntry(
            "Expectation",
            "Something a programme asks of providers, commissioners or local health systems, with a due date. "
            "The consistency report checks that the bodies do not ask the same people for different things.",
            "expectation",
        ),
        GlossaryEntry(
            "Audience",
            "Who an expectation is asked of.",
            "audience",
            tuple((str(label), AUDIENCE_MEANINGS[value]) for value, label in Audience.choices),
        ),
        GlossaryEntry(
            "Measure",
            "A number the bodies agreed to judge a programme's success by, measured each month in each region.",
            "measure",
        ),
    ]
