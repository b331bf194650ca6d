"""The demonstration data set: a believable picture of the joint working of 2018–19.

Built on the reference data (load_reference) and data/seed/programmes.csv. The
people are fictional; the monthly measurements are generated (their source says
so, and the portal labels them), except A&E's, which are NHS England's published
figures of every trust, April 2016 to March 2019 (data/statistics/ae). One problem is planted for each rule of the
reports (PLANTED below, and docs/demo-data.md); everything else is meant to be
fine by every rule.

Deterministic and idempotent: random figures come from a fixed seed, records are
matched by their natural keys and saved only when something differs, so a
second run on the same day writes nothing.
"""

import csv
import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, User
from appointments.models import Appointment, AppointmentShare, Person

# The demonstration data set seeds the asks and measures too (.importlinter lets this module alone import them).
from asks.models import Expectation
from measures import statistics_import
from measures.models import Measure, Measurement, ProgrammeMeasure
from nhs_joint import bulk
from organisations.models import NationalBody, StatutoryDuty
from organisations.services import Tally, put_record
from regions.models import Region

from .models import Audience, BoardApproval, Programme, RegionalDelivery, Workstream

SEED = Path(settings.BASE_DIR) / "data" / "seed"
RANDOM_SEED = 20181001
DEFAULT_PASSWORD = "joint-working-2018"
FIRST_MONTH = dt.date(2018, 4, 1)
JOINT_START = dt.date(2019, 4, 1)

P, C, L = Audience.PROVIDERS, Audience.COMMISSIONERS, Audience.LOCAL_SYSTEMS

# The problems the reports must find, one per rule, by the records' natural keys.
PLANTED = [
    {
        "rule": "region-director",
        "summary": "East of England's Regional Director is employed by NHS England only.",
        "records": ["region:Y61"],
    },
    {
        "rule": "expectation-conflict",
        "summary": "Providers are asked for A&E 4-hour performance of at least 95% and of at least 90%.",
        "records": ["programme:urgent-emergency-care", "programme:single-oversight-framework", "measure:ae-4hr"],
    },
    {
        "rule": "statutory-accountability",
        "summary": "The national tariff (NHS Improvement accountable) is recorded under an NHS England duty.",
        "records": ["programme:national-tariff"],
    },
    {
        "rule": "board-approval",
        "summary": "Maternity is active but NHS Improvement's Board only deferred it.",
        "records": ["programme:maternity"],
    },
    {
        "rule": "appointment-shares",
        "summary": "A joint national director's shares total 90%.",
        "records": ["person:jo.okafor@example.nhs.uk"],
    },
    {
        "rule": "regional-coverage",
        "summary": "Learning disability has no delivery record for the South West.",
        "records": ["programme:learning-disability", "region:Y58"],
    },
    {
        "rule": "measure-data-gap",
        "summary": "Early intervention in psychosis figures for the South East stopped.",
        "records": ["measure:eip-2wk", "region:Y59"],
    },
    {
        "rule": "duplicate-work",
        "summary": "Discharge to assess is a workstream of two programmes.",
        "records": ["programme:urgent-emergency-care", "programme:seven-day-services"],
    },
    {
        "rule": "duplicate-post",
        "summary": "Each body employs a Director of Elective Care.",
        "records": ["person:amara.bello@example.nhs.uk", "person:tom.fairweather@example.nhs.uk"],
    },
    {
        "rule": "duplicate-ask",
        "summary": "Two programmes ask providers for the same cancer 62-day target.",
        "records": ["programme:cancer", "programme:single-oversight-framework", "measure:cancer-62d"],
    },
]

# The duty each programme's accountable body discharges through it.
DUTIES = {
    "urgent-emergency-care": "nhse-mandate",
    "elective-care": "nhse-mandate",
    "cancer": "nhse-mandate",
    "mental-health": "nhse-mandate",
    "primary-care": "nhse-direct-commissioning",
    "maternity": "nhse-mandate",
    "learning-disability": "nhse-mandate",
    "specialised-commissioning": "nhse-direct-commissioning",
    "rightcare": "nhse-ccg-allocations",
    "ccg-assessment": "nhse-ccg-assessment",
    "seven-day-services": "nhse-mandate",
    "single-oversight-framework": "nhsi-trust-oversight",
    "provider-licensing": "nhsi-provider-licensing",
    "financial-recovery": "nhsi-foundation-trust-regulation",
    "quality-special-measures": "nhsi-trust-oversight",
    "girft": "nhsi-trust-oversight",
    "model-hospital": "nhsi-trust-oversight",
    "patient-safety": "nhsi-trust-oversight",
    # Planted (statutory-accountability): the tariff is NHS Improvement's duty (nhsi-pricing), not this one.
    "national-tariff": "nhse-ccg-allocations",
    "system-development": "nhse-ccg-allocations",
    "making-data-count": "nhsi-trust-oversight",
    "long-term-plan": "nhse-mandate",
}
STATUS = {"long-term-plan": Programme.Status.APPROVED}
STARTS = {"long-term-plan": dt.date(2019, 1, 7), "system-development": dt.date(2018, 7, 1)}

DESCRIPTIONS = {
    "urgent-emergency-care": "One national team for both bodies plans for winter, supports trusts under pressure "
    "and holds the line on the four-hour standard. Ambulance response standards and same-day emergency care sit here.",
    "elective-care": "Commissioners manage demand and referral pathways; providers add capacity and validate waiting "
    "lists. The aim is to stop waiting lists growing and to end 52-week waits.",
    "cancer": "Cancer Alliances lead earlier diagnosis and faster treatment across their populations, with rapid "
    "diagnostic centres and the faster diagnosis standard being prepared.",
    "mental-health": "Expands access to psychological therapies, early intervention in psychosis and crisis care, "
    "funded through the mental health investment standard.",
    "primary-care": "Investment, workforce and access in general practice, with CCGs taking on delegated "
    "commissioning of primary medical services.",
    "maternity": "Better Births: continuity of carer, personalised care plans and the maternal and neonatal safety "
    "collaborative, with local maternity systems.",
    "learning-disability": "Transforming care: fewer people with a learning disability or autism in inpatient "
    "settings, with community support and care and treatment reviews.",
    "specialised-commissioning": "Direct commissioning of specialised services, their service specifications, "
    "clinical reference groups and policies.",
    "rightcare": "Packs and support that show commissioners where outcomes and spending vary unwarrantedly, so "
    "that they can set priorities.",
    "ccg-assessment": "The improvement and assessment framework rates every CCG each year, as the law requires "
    "of NHS England.",
    "seven-day-services": "Four priority clinical standards so that patients admitted at weekends are reviewed by a "
    "consultant and get diagnostics as on weekdays.",
    "single-oversight-framework": "Segments trusts and foundation trusts into four by their need for support, and "
    "sets out the support or intervention for each segment.",
    "provider-licensing": "The provider licence and its conditions, and enforcement when providers breach them.",
    "financial-recovery": "Control totals, the provider sustainability fund, the agency cap and financial special "
    "measures for providers in deficit.",
    "quality-special-measures": "Intensive support, with the Care Quality Commission, for providers in quality "
    "special measures, including buddying with strong trusts.",
    "girft": "Clinically led reviews of each specialty, visiting every trust with data on its outcomes and costs.",
    "model-hospital": "A digital tool comparing trusts' costs and productivity, following Lord Carter's review.",
    "patient-safety": "The national reporting and learning system, patient safety alerts and the never events "
    "framework.",
    "national-tariff": "The national tariff payment system: prices, currencies and the rules for local variation, "
    "consulted on and published jointly.",
    "system-development": "Support for sustainability and transformation partnerships as they become integrated "
    "care systems, with system control totals.",
    "making-data-count": "Teaches boards to read statistical process control charts so that they act on signals "
    "rather than on month-to-month noise.",
    "long-term-plan": "Joint planning guidance and the implementation framework that local systems use to write "
    "their five-year plans.",
}

# (programme, title, description, owning body code or None for the accountable body, audiences, regions)
# Regions: None means all England (no regions ticked); a list of ODS codes means those regions.
WORKSTREAMS = [
    (
        "urgent-emergency-care",
        "Winter planning and escalation",
        "Agree winter plans with every system, set up the national escalation levels and run the daily sitrep.",
        None,
        [P, C],
        None,
    ),
    (
        "urgent-emergency-care",
        "Same day emergency care",
        "Expand ambulatory emergency care so that patients who can go home on the day are not admitted.",
        "NHSI",
        [P],
        None,
    ),
    (
        "urgent-emergency-care",
        "Ambulance response programme",
        "Implement the new ambulance response categories and their mean response standards in every trust.",
        "NHSE",
        [P],
        None,
    ),
    # Planted (duplicate-work): near-identical to the seven day services workstream below.
    (
        "urgent-emergency-care",
        "Discharge to assess",
        "Discharge to assess: same-day discharge from acute wards, with community health and social care support at home.",
        "NHSI",
        [P],
        None,
    ),
    (
        "elective-care",
        "Referral demand management",
        "Advice and guidance between GPs and consultants and referral support services run by commissioners.",
        "NHSE",
        [C],
        None,
    ),
    (
        "elective-care",
        "Waiting list validation",
        "Clean hospital waiting lists of pathways that have ended, and report incomplete pathways accurately.",
        "NHSI",
        [P],
        None,
    ),
    (
        "elective-care",
        "Outpatient transformation",
        "Redesign outpatient follow-up with patient-initiated appointments and video consultations.",
        "NHSE",
        [P, C],
        None,
    ),
    (
        "cancer",
        "Cancer Alliance funding",
        "Transformation funding for the 19 Cancer Alliances, released against agreed delivery plans.",
        None,
        [L],
        None,
    ),
    (
        "cancer",
        "Rapid diagnostic centres",
        "Pilot centres that give people with vague symptoms one test pathway and a diagnosis within weeks.",
        None,
        [P],
        ["Y56", "Y62", "Y60"],
    ),
    (
        "cancer",
        "Faster diagnosis standard preparation",
        "Record the date a patient is told they have cancer, or that it is ruled out, ahead of the 28-day standard.",
        None,
        [P],
        None,
    ),
    (
        "mental-health",
        "Talking therapies expansion",
        "Grow improving access to psychological therapies services, integrated with physical health care.",
        None,
        [C],
        None,
    ),
    (
        "mental-health",
        "Early intervention in psychosis teams",
        "Staff teams to treat people experiencing a first episode of psychosis with a NICE-recommended package.",
        None,
        [C, P],
        None,
    ),
    (
        "mental-health",
        "Crisis resolution and home treatment",
        "Round-the-clock crisis teams for adults, as an alternative to admission.",
        None,
        [P],
        None,
    ),
    (
        "primary-care",
        "Extended access to general practice",
        "Evening and weekend GP appointments for every patient, commissioned by CCGs.",
        None,
        [C],
        None,
    ),
    (
        "primary-care",
        "International GP recruitment",
        "Recruit doctors trained abroad into general practice in the areas with the fewest GPs.",
        None,
        [C],
        ["Y63", "Y61", "Y58"],
    ),
    (
        "primary-care",
        "Delegated commissioning support",
        "Help CCGs take on the commissioning of primary medical services under delegation agreements.",
        None,
        [C],
        None,
    ),
    (
        "maternity",
        "Continuity of carer",
        "Most women cared for by the same midwife through pregnancy, birth and after birth.",
        "NHSE",
        [P],
        None,
    ),
    (
        "maternity",
        "Maternal and neonatal safety collaborative",
        "Quality improvement in every maternity unit to halve stillbirths and neonatal deaths by 2025.",
        "NHSI",
        [P],
        None,
    ),
    (
        "maternity",
        "Local maternity systems",
        "Commissioners and providers plan maternity services together across each local maternity system.",
        "NHSE",
        [C, L],
        None,
    ),
    (
        "learning-disability",
        "Care and treatment reviews",
        "A review before and during any inpatient admission of a person with a learning disability or autism.",
        None,
        [C],
        None,
    ),
    (
        "learning-disability",
        "Community forensic teams",
        "Specialist community teams so that people leaving secure hospitals are supported near home.",
        None,
        [P],
        None,
    ),
    (
        "learning-disability",
        "Stopping over-medication (STOMP)",
        "Reduce the use of psychotropic medicines in people with a learning disability.",
        None,
        [P, C],
        None,
    ),
    (
        "specialised-commissioning",
        "Service specification reviews",
        "Revise the national service specifications through the clinical reference groups.",
        None,
        [P],
        None,
    ),
    (
        "specialised-commissioning",
        "Specialised mental health new care models",
        "Provider collaboratives take on budgets for secure and child and adolescent inpatient care.",
        None,
        [P, L],
        None,
    ),
    (
        "specialised-commissioning",
        "High-cost drugs procurement",
        "National procurement and switching to best-value biosimilar medicines.",
        None,
        [P],
        None,
    ),
    (
        "rightcare",
        "Commissioning for value packs",
        "Data packs showing each CCG where its spending and outcomes differ from similar populations.",
        None,
        [C],
        None,
    ),
    (
        "rightcare",
        "Optimal pathway guides",
        "Evidence-based pathways for conditions such as heart failure and chronic obstructive pulmonary disease.",
        None,
        [C],
        None,
    ),
    (
        "rightcare",
        "Delivery partner support",
        "RightCare delivery partners working alongside commissioners on their chosen priorities.",
        None,
        [C],
        None,
    ),
    (
        "ccg-assessment",
        "Annual assessment ratings",
        "Publish each CCG's rating as outstanding, good, requires improvement or inadequate.",
        None,
        [C],
        None,
    ),
    (
        "ccg-assessment",
        "Indicator methodology",
        "Agree the indicators, their sources and thresholds with the clinical and analytical community.",
        None,
        [C],
        None,
    ),
    (
        "ccg-assessment",
        "Support for inadequate CCGs",
        "Legal directions and turnaround support for CCGs rated inadequate.",
        None,
        [C],
        None,
    ),
    (
        "seven-day-services",
        "Consultant review within 14 hours",
        "Every emergency admission seen and assessed by a consultant within 14 hours of arrival.",
        None,
        [P],
        None,
    ),
    (
        "seven-day-services",
        "Weekend diagnostics",
        "Timely access to imaging, endoscopy and echocardiography on every day of the week.",
        None,
        [P],
        None,
    ),
    # Planted (duplicate-work): near-identical to the urgent and emergency care workstream above.
    (
        "seven-day-services",
        "Discharge to assess over seven days",
        "Discharge to assess from acute wards on the same day, with community and social care support at home.",
        None,
        [P],
        None,
    ),
    (
        "single-oversight-framework",
        "Segmentation",
        "Place every trust in one of four segments quarterly from its finance, quality and performance data.",
        None,
        [P],
        None,
    ),
    (
        "single-oversight-framework",
        "Regional support offers",
        "Tailor the support of regional teams to each segment, from universal support to mandated intervention.",
        None,
        [P],
        None,
    ),
    (
        "single-oversight-framework",
        "Use of resources assessments",
        "Assess with the Care Quality Commission how productively each trust uses its resources.",
        None,
        [P],
        None,
    ),
    (
        "provider-licensing",
        "Licence condition compliance",
        "Monitor providers against the governance and continuity of services conditions of their licence.",
        None,
        [P],
        None,
    ),
    (
        "provider-licensing",
        "Enforcement undertakings",
        "Agree and follow up enforcement undertakings where a licence condition is breached.",
        None,
        [P],
        None,
    ),
    (
        "provider-licensing",
        "Independent provider licensing",
        "Licence independent providers of NHS services above the exemption threshold.",
        None,
        [P],
        None,
    ),
    (
        "financial-recovery",
        "Control totals",
        "Agree a financial control total with each provider and tie sustainability funding to it.",
        None,
        [P],
        None,
    ),
    (
        "financial-recovery",
        "Agency staff cap",
        "Price caps and a ceiling on each trust's agency spending, with breaches reported weekly.",
        None,
        [P],
        None,
    ),
    (
        "financial-recovery",
        "Financial special measures",
        "Recovery plans and directors of finance support for trusts in financial special measures.",
        None,
        [P],
        None,
    ),
    (
        "quality-special-measures",
        "Improvement directors",
        "An improvement director placed in each trust in special measures to oversee its plan.",
        None,
        [P],
        None,
    ),
    (
        "quality-special-measures",
        "Buddying with strong trusts",
        "Pair each trust in special measures with a partner trust rated outstanding.",
        None,
        [P],
        None,
    ),
    (
        "quality-special-measures",
        "Exit reviews",
        "Recommend that a trust leaves special measures after its inspection by the Care Quality Commission.",
        None,
        [P],
        None,
    ),
    (
        "girft",
        "Orthopaedic surgery reviews",
        "Deep-dive visits on joint replacement outcomes, infection rates and implant costs.",
        None,
        [P],
        None,
    ),
    (
        "girft",
        "General surgery reviews",
        "Compare emergency general surgery, day case rates and length of stay across trusts.",
        None,
        [P],
        None,
    ),
    (
        "girft",
        "Litigation cost data",
        "Show each specialty its clinical negligence claims to target learning.",
        None,
        [P],
        None,
    ),
    (
        "model-hospital",
        "Model hospital dashboard",
        "Compare each trust's cost per weighted activity unit with its peers and the best.",
        None,
        [P],
        None,
    ),
    (
        "model-hospital",
        "Rota and e-rostering",
        "Adopt electronic rostering and job planning for nurses and doctors.",
        None,
        [P],
        None,
    ),
    (
        "model-hospital",
        "Corporate services consolidation",
        "Share back-office functions such as payroll and procurement between trusts.",
        None,
        [P],
        None,
    ),
    (
        "patient-safety",
        "National reporting and learning",
        "Collect patient safety incidents from every provider and learn from them nationally.",
        None,
        [P],
        None,
    ),
    (
        "patient-safety",
        "Safety alerts",
        "Issue patient safety alerts and check that providers act on them by the deadline.",
        None,
        [P],
        None,
    ),
    (
        "patient-safety",
        "Never events framework",
        "Define never events and how providers investigate them.",
        None,
        [P],
        None,
    ),
    (
        "national-tariff",
        "Tariff engagement and consultation",
        "Engage the sector on prices and rules and hold the statutory consultation.",
        "NHSI",
        [P, C],
        None,
    ),
    (
        "national-tariff",
        "Blended payment for emergency care",
        "Design a payment with a fixed element and a variable element for emergency admissions.",
        "NHSE",
        [P, C],
        None,
    ),
    (
        "national-tariff",
        "Market forces factor review",
        "Update the adjustment for unavoidable differences in providers' costs.",
        "NHSI",
        [P],
        None,
    ),
    (
        "system-development",
        "Integrated care system accelerator",
        "Leadership support for the first wave of integrated care systems.",
        None,
        [L],
        None,
    ),
    (
        "system-development",
        "Population health management",
        "Linked data and analytics for systems to target care to groups at risk.",
        None,
        [L],
        None,
    ),
    (
        "system-development",
        "System control totals",
        "One financial control total for the organisations of a system.",
        None,
        [L, P],
        None,
    ),
    (
        "making-data-count",
        "Board training",
        "Workshops that teach boards to read run charts and statistical process control charts.",
        None,
        [P],
        None,
    ),
    (
        "making-data-count",
        "Chart templates",
        "Free spreadsheet tools to plot statistical process control charts in board reports.",
        None,
        [P],
        None,
    ),
    (
        "making-data-count",
        "Integrated performance reports",
        "Redesign trusts' integrated performance reports around variation and assurance icons.",
        None,
        [P],
        None,
    ),
    (
        "long-term-plan",
        "Planning guidance",
        "One joint planning guidance document for commissioners and providers each year.",
        None,
        [C, P],
        None,
    ),
    (
        "long-term-plan",
        "System five-year plans",
        "Each local system writes and agrees its strategic plan for the long term plan's commitments.",
        None,
        [L],
        None,
    ),
    (
        "long-term-plan",
        "Implementation framework",
        "Set out what systems must deliver and by when across the plan's chapters.",
        None,
        [L],
        None,
    ),
]

# (programme, issuing body, audience, region or None for England, measure, target, wording)
EXPECTATIONS = [
    (
        "urgent-emergency-care",
        "NHSE",
        P,
        None,
        "ae-4hr",
        95,
        "Trusts return to the four-hour standard: 95% of patients admitted, transferred or discharged within four hours.",
    ),
    ("urgent-emergency-care", "NHSE", P, None, "amb-cat1-mean", 7, "Category 1 calls reached in 7 minutes on average."),
    (
        "urgent-emergency-care",
        "NHSE",
        P,
        None,
        "amb-cat2-mean",
        18,
        "Category 2 calls reached in 18 minutes on average.",
    ),
    # Planted (expectation-conflict): the same providers, the same measure, a different target.
    (
        "single-oversight-framework",
        "NHSI",
        P,
        None,
        "ae-4hr",
        90,
        "Trusts in segments 3 and 4 meet an improvement trajectory of at least 90% within four hours.",
    ),
    ("cancer", "NHSE", P, None, "cancer-2ww", 93, "93% of people urgently referred are seen within two weeks."),
    ("cancer", "NHSE", P, None, "cancer-31d", 96, "96% start first treatment within 31 days of the decision to treat."),
    ("cancer", "NHSE", P, None, "cancer-62d", 85, "85% start first treatment within 62 days of an urgent referral."),
    # Planted (duplicate-ask): the same ask again, from another programme.
    (
        "single-oversight-framework",
        "NHSI",
        P,
        None,
        "cancer-62d",
        85,
        "Trusts deliver the 62-day cancer standard of 85%, as an oversight metric.",
    ),
    (
        "elective-care",
        "NHSE",
        C,
        None,
        "rtt-18wk",
        92,
        "Commissioners plan for 92% of incomplete pathways within 18 weeks.",
    ),
    ("elective-care", "NHSI", P, None, "rtt-18wk", 92, "Providers hold 92% of incomplete pathways within 18 weeks."),
    ("elective-care", "NHSI", P, None, "diag-6wk", 1, "No more than 1% of patients wait six weeks or more for a test."),
    (
        "elective-care",
        "NHSE",
        C,
        "Y60",
        "diag-6wk",
        1,
        "Midlands commissioners buy enough diagnostic capacity that no more than 1% wait six weeks.",
    ),
    (
        "mental-health",
        "NHSE",
        C,
        None,
        "iapt-6wk",
        75,
        "75% of people referred start talking therapy within six weeks.",
    ),
    (
        "mental-health",
        "NHSE",
        C,
        None,
        "eip-2wk",
        53,
        "53% of people with a first episode of psychosis start treatment within two weeks.",
    ),
    ("long-term-plan", "NHSE", L, None, "rtt-18wk", 92, "Systems plan elective capacity for the 18-week standard."),
]

# (programme, measure, target): how each programme's success is measured.
AGREED = [
    ("urgent-emergency-care", "ae-4hr", 95),
    ("urgent-emergency-care", "amb-cat1-mean", 7),
    ("urgent-emergency-care", "amb-cat2-mean", 18),
    ("elective-care", "rtt-18wk", 92),
    ("elective-care", "diag-6wk", 1),
    ("cancer", "cancer-2ww", 93),
    ("cancer", "cancer-31d", 96),
    ("cancer", "cancer-62d", 85),
    ("mental-health", "iapt-6wk", 75),
    ("mental-health", "eip-2wk", 53),
    ("seven-day-services", "ae-4hr", 95),
    ("single-oversight-framework", "ae-4hr", 95),
]

REGIONAL_DIRECTORS = {
    # region: (name, email-local part)
    "Y56": ("Priya Raman", "priya.raman"),
    "Y58": ("Gareth Penrose", "gareth.penrose"),
    "Y59": ("Helen Ashdown", "helen.ashdown"),
    "Y60": ("Dele Adeyemi", "dele.adeyemi"),
    "Y61": ("Fiona Marsh", "fiona.marsh"),
    "Y62": ("Colin Whitworth", "colin.whitworth"),
    "Y63": ("Ruth Calvert", "ruth.calvert"),
}

# (name, email local part, post title, role, programme or None, shares {body: percent})
NATIONAL_POSTS = [
    (
        "Martin Hale",
        "martin.hale",
        "National Director: Urgent and Emergency Care",
        "national_director",
        "urgent-emergency-care",
        {"NHSE": 50, "NHSI": 50},
    ),
    ("Sunita Kaur", "sunita.kaur", "Chief Operating Officer", "national_director", None, {"NHSE": 50, "NHSI": 50}),
    ("Owen Pryce", "owen.pryce", "Chief Financial Officer", "national_director", None, {"NHSE": 50, "NHSI": 50}),
    (
        "Grace Mensah",
        "grace.mensah",
        "National Director of Strategy and Innovation",
        "national_director",
        "long-term-plan",
        {"NHSE": 50, "NHSI": 50},
    ),
    (
        "Ian Burgess",
        "ian.burgess",
        "National Director of Commissioning Operations",
        "national_director",
        "system-development",
        {"NHSE": 50, "NHSI": 50},
    ),
    # Planted (appointment-shares): the shares total 90.
    (
        "Jo Okafor",
        "jo.okafor",
        "National Director of Improvement",
        "national_director",
        "making-data-count",
        {"NHSE": 50, "NHSI": 40},
    ),
    # Planted (duplicate-post): one post per body, the same title.
    ("Amara Bello", "amara.bello", "Director of Elective Care", "programme_director", "elective-care", {"NHSE": 100}),
    ("Tom Fairweather", "tom.fairweather", "director of elective care", "programme_director", None, {"NHSI": 100}),
]

PROGRAMME_DIRECTORS = {
    "cancer": ("Alison Carter", "National Cancer Director"),
    "mental-health": ("Ben Hargreaves", "National Mental Health Director"),
    "primary-care": ("Chloe Dawson", "Director of Primary Care"),
    "maternity": ("Deborah Quinn", "Maternity Transformation Director"),
    "learning-disability": ("Ewan Stirling", "Director of Learning Disability Programmes"),
    "specialised-commissioning": ("Farah Siddiqui", "Director of Specialised Commissioning"),
    "rightcare": ("George Lindqvist", "RightCare Director"),
    "ccg-assessment": ("Hannah Wells", "Director of CCG Assessment"),
    "seven-day-services": ("Imran Chaudhry", "Seven Day Services Programme Director"),
    "single-oversight-framework": ("Julia Brennan", "Director of Provider Oversight"),
    "provider-licensing": ("Kwame Asante", "Director of Licensing and Enforcement"),
    "financial-recovery": ("Laura Pemberton", "Director of Provider Finance"),
    "quality-special-measures": ("Mark Ellison", "Director of Special Measures"),
    "girft": ("Nadia Rossi", "Getting It Right First Time Programme Director"),
    "model-hospital": ("Oliver Grant", "Director of Operational Productivity"),
    "patient-safety": ("Patricia Nwosu", "National Director of Patient Safety"),
    "national-tariff": ("Rhys Morgan", "Director of Pricing"),
}

DEMO_USERS = [
    # username, first, last, role, region, person email
    ("staff.demo", "Sam", "Staff", Role.STAFF, None, "sam.staff@example.nhs.uk"),
    ("director.demo", "Priya", "Raman", Role.REGIONAL_DIRECTOR, "Y56", "priya.raman@example.nhs.uk"),
    ("admin.demo", "Alex", "Admin", Role.ADMINISTRATOR, None, "alex.admin@example.nhs.uk"),
]

# Monthly series: (typical value, spread between regions, month-to-month noise, winter effect).
SERIES = {
    "ae-4hr": (88.0, 3.0, 0.8, -3.0),
    "rtt-18wk": (87.0, 2.5, 0.4, -0.5),
    "diag-6wk": (2.0, 0.8, 0.3, 0.6),
    "cancer-2ww": (91.0, 2.0, 0.9, -0.5),
    "cancer-31d": (96.0, 0.8, 0.4, -0.2),
    "cancer-62d": (78.0, 3.0, 1.5, -1.0),
    "amb-cat1-mean": (7.4, 0.6, 0.2, 0.5),
    "amb-cat2-mean": (22.0, 4.0, 2.0, 8.0),
    "iapt-6wk": (89.0, 2.0, 0.8, 0.0),
    "eip-2wk": (70.0, 5.0, 3.0, 0.0),
}
GAP_MONTHS = 6  # Planted (measure-data-gap): eip-2wk in the South East stops this many months early.


@dataclass
class Seeded:
    tally: Tally = field(default_factory=Tally)
    password: str = DEFAULT_PASSWORD
    users: list = field(default_factory=list)  # (username, role, whether this run set its password)
    seeding: "Seeding" = None


def months(first, last):
    month = first
    while month <= last:
        yield month
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def last_complete_month(today):
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def end_of_next_financial_year(today):
    return dt.date(today.year + (2 if today.month >= 4 else 1), 3, 31)


class Seeding:
    """How the seed treats records that exist: left as people left them, unless a reset was asked for.

    Without a reset, a record is created when it is missing and never changed once it exists, so
    running the set-up again never puts back what somebody edited, archived or added. With a reset,
    the demonstration records are brought back to their seeded values and each one replaced is named.
    """

    def __init__(self, tally, reset=False):
        self.tally = tally  # what was created, updated or left, by kind of record
        self.reset = reset
        self.created = set()  # (model, pk) of the records this run created
        self.replaced = []  # what a reset put back: "programme “Cancer”: title, theme"

    def ensure(self, model, lookup, values, kind):
        """The record with ``lookup``: created when missing; with a reset, brought back to ``values``."""
        obj, outcome, changed = put_record(model, lookup, values, create_only=not self.reset)
        self.tally.add(kind, outcome)
        if outcome == "created":
            self.created.add((model, obj.pk))
        elif changed:
            self.replaced.append(f"{model._meta.verbose_name} “{obj}”: {', '.join(changed)}")
        return obj

    def is_new(self, obj):
        return (type(obj), obj.pk) in self.created

    def may_change(self, obj):
        """Whether the seed may set the parts of ``obj`` it keeps apart (many-to-many, shares)."""
        return self.reset or self.is_new(obj)

    def set_m2m(self, owner, manager, objects, kind):
        if not self.may_change(owner):
            return
        wanted = {o.pk for o in objects}
        if set(manager.values_list("pk", flat=True)) != wanted:
            manager.set(objects)
            self.tally.add(kind, "updated")
            if not self.is_new(owner):
                self.replaced.append(f"{kind} of “{owner}”")


def seed(password=None, today=None, reset=False):
    """Add the demonstration data that is missing; with ``reset``, bring it back as seeded. Returns what it did."""
    today = today or dt.date.today()
    result = Seeded(password=password or DEFAULT_PASSWORD)
    seeding = result.seeding = Seeding(result.tally, reset=reset)
    # One transaction; what each save keeps up to date (the records' search documents) is done once at its end.
    with transaction.atomic(), bulk.in_bulk():
        bodies = {b.code: b for b in NationalBody.objects.all()}
        if set(bodies) != {"NHSE", "NHSI"}:
            raise RuntimeError("The reference data is missing: run load_reference first.")
        duties = {d.slug: d for d in StatutoryDuty.objects.all()}
        regions = {r.ods_code: r for r in Region.objects.active()}
        measures = {m.code: m for m in Measure.objects.all()}

        programmes = seed_programmes(bodies, duties, seeding)
        people = seed_people(seeding)
        appointments = seed_appointments(people, programmes, regions, bodies, seeding)
        for slug, programme in programmes.items():
            sro = appointments.get(("sro", slug))
            if not seeding.may_change(programme):
                continue
            if sro is not None and programme.senior_responsible_owner_id != sro.pk:
                programme.senior_responsible_owner = sro
                programme.save()
                seeding.tally.add("programmes", "updated")
        seed_approvals(programmes, bodies, seeding)
        seed_deliveries(programmes, regions, appointments, seeding)
        seed_workstreams(programmes, bodies, regions, seeding)
        seed_expectations(programmes, bodies, regions, measures, today, seeding)
        seed_agreed_measures(programmes, measures, seeding)
        seed_measurements(measures, regions, today, seeding)
        result.users = seed_users(bodies, regions, people, result.password, seeding)
    return result


def seed_programmes(bodies, duties, seeding):
    programmes = {}
    with open(SEED / "programmes.csv", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        slug = row["slug"]
        programme = seeding.ensure(
            Programme,
            {"slug": slug},
            {
                "title": row["title"],
                "summary": row["summary"],
                "description": DESCRIPTIONS[slug],
                "theme": row["theme"],
                "integration_stage": row["integration_stage"],
                "accountable_body": bodies[row["accountable_body"]],
                "duty": duties[DUTIES[slug]],
                "status": STATUS.get(slug, Programme.Status.ACTIVE),
                "start_date": STARTS.get(slug, dt.date(2018, 4, 1)),
                "end_date": None,
            },
            "programmes",
        )
        seeding.set_m2m(
            programme, programme.bodies, [bodies[code] for code in row["bodies"].split(";")], "programme bodies"
        )
        programmes[slug] = programme
    return programmes


def email(local):
    return f"{local}@example.nhs.uk"


def seed_people(seeding):
    people = {}
    names = [(name, local) for name, local in REGIONAL_DIRECTORS.values()]
    names += [(name, local) for name, local, *_ in NATIONAL_POSTS]
    names += [(name, name.lower().replace(" ", ".")) for name, _ in PROGRAMME_DIRECTORS.values()]
    names += [("Sam Staff", "sam.staff"), ("Alex Admin", "alex.admin")]
    for name, local in names:
        people[email(local)] = seeding.ensure(Person, {"email": email(local)}, {"name": name}, "people")
    return people


def put_shares(appointment, shares, bodies, seeding):
    if not seeding.may_change(appointment):
        return
    held = {s.body.code: s for s in appointment.shares.select_related("body")}
    for code, percent in shares.items():
        share = held.pop(code, None)
        if share is None:
            AppointmentShare.objects.create(appointment=appointment, body=bodies[code], fte_percent=percent)
            seeding.tally.add("appointment shares", "created")
        elif share.fte_percent != Decimal(percent):
            share.fte_percent = percent
            share.save()
            seeding.tally.add("appointment shares", "updated")
    for share in held.values():
        share.delete()
        seeding.tally.add("appointment shares", "deleted")


def appoint(person, title, role, start, seeding, *, region=None, programme=None):
    return seeding.ensure(
        Appointment,
        {"person": person, "title": title, "start_date": start},
        {"role": role, "region": region, "programme": programme, "end_date": None},
        "appointments",
    )


def seed_appointments(people, programmes, regions, bodies, seeding):
    appointments = {}
    for code, (_name, local) in REGIONAL_DIRECTORS.items():
        region = regions[code]
        start = max(JOINT_START, region.effective_from or JOINT_START)
        appointment = appoint(
            people[email(local)],
            f"Regional Director, {region.short_name}",
            Appointment.Role.REGIONAL_DIRECTOR,
            start,
            seeding,
            region=region,
        )
        # Planted (region-director): East of England's director is employed by NHS England only.
        shares = {"NHSE": 100} if code == "Y61" else {"NHSE": 50, "NHSI": 50}
        put_shares(appointment, shares, bodies, seeding)
        appointments[("rd", code)] = appointment
    for _name, local, title, role, slug, shares in NATIONAL_POSTS:
        appointment = appoint(
            people[email(local)], title, role, dt.date(2018, 10, 1), seeding, programme=programmes.get(slug)
        )
        put_shares(appointment, shares, bodies, seeding)
        if slug:
            appointments[("sro", slug)] = appointment
    for slug, (name, title) in PROGRAMME_DIRECTORS.items():
        programme = programmes[slug]
        appointment = appoint(
            people[email(name.lower().replace(" ", "."))],
            title,
            Appointment.Role.PROGRAMME_DIRECTOR,
            dt.date(2018, 4, 1),
            seeding,
            programme=programme,
        )
        codes = sorted(b.code for b in programme.bodies.all())
        put_shares(appointment, {code: Decimal(100) / len(codes) for code in codes}, bodies, seeding)
        appointments[("sro", slug)] = appointment
    return appointments


def seed_approvals(programmes, bodies, seeding):
    for slug, programme in programmes.items():
        if programme.status not in (Programme.Status.APPROVED, Programme.Status.ACTIVE):
            continue
        for index, body in enumerate(sorted(programme.bodies.all(), key=lambda b: b.code)):
            decision = BoardApproval.Decision.APPROVED
            # Planted (board-approval): NHS Improvement's Board deferred maternity.
            if slug == "maternity" and body.code == "NHSI":
                decision = BoardApproval.Decision.DEFERRED
            date = programme.start_date - dt.timedelta(days=20 - 7 * index)
            seeding.ensure(
                BoardApproval,
                {"programme": programme, "body": body, "date": date},
                {"decision": decision, "minute_reference": f"{body.code} Board {date:%Y/%m} item {len(slug) % 9 + 3}"},
                "board approvals",
            )


RAG_NOTES = {
    "green": "On track against the regional plan.",
    "amber": "Behind plan in part of the region; recovery actions agreed with the systems.",
    "red": "Significantly behind plan; escalated to the regional leadership team.",
}


def seed_deliveries(programmes, regions, appointments, seeding):
    rags = ["green", "green", "amber", "green", "amber", "red", "green"]
    for p_index, (slug, programme) in enumerate(sorted(programmes.items())):
        if programme.status != Programme.Status.ACTIVE:
            continue
        for r_index, (code, region) in enumerate(sorted(regions.items())):
            # Planted (regional-coverage): no delivery record for learning disability in the South West.
            if slug == "learning-disability" and code == "Y58":
                continue
            rag = rags[(p_index * 3 + r_index) % len(rags)]
            seeding.ensure(
                RegionalDelivery,
                {"programme": programme, "region": region},
                {"rag": rag, "lead": appointments[("rd", code)].person, "note": RAG_NOTES[rag]},
                "regional deliveries",
            )


def seed_workstreams(programmes, bodies, regions, seeding):
    for slug, title, description, body_code, audiences, region_codes in WORKSTREAMS:
        programme = programmes[slug]
        body = bodies[body_code] if body_code else programme.accountable_body
        workstream = seeding.ensure(
            Workstream,
            {"programme": programme, "title": title},
            {
                "description": description,
                "body": body,
                "audiences": list(audiences),
                "start_date": programme.start_date,
                "end_date": None,
            },
            "workstreams",
        )
        seeding.set_m2m(workstream, workstream.regions, [regions[c] for c in region_codes or []], "workstream regions")


def seed_expectations(programmes, bodies, regions, measures, today, seeding):
    due = end_of_next_financial_year(today)
    for slug, body_code, audience, region_code, code, target, wording in EXPECTATIONS:
        measure = measures[code]
        seeding.ensure(
            Expectation,
            {
                "programme": programmes[slug],
                "audience": audience,
                "measure": measure,
                "region": regions[region_code] if region_code else None,
            },
            {
                "issued_by": bodies[body_code],
                "comparator": measure.comparator,
                "target": Decimal(target),
                "start_date": dt.date(2018, 4, 1),
                "due_date": due,
                "wording": wording,
                "stage": Expectation.Stage.AGREED,
            },
            "expectations",
        )


def seed_agreed_measures(programmes, measures, seeding):
    for slug, code, target in AGREED:
        programme = programmes[slug]
        agreed = seeding.ensure(
            ProgrammeMeasure,
            {"programme": programme, "measure": measures[code]},
            {"target": Decimal(target), "agreed_on": programme.start_date + dt.timedelta(days=61)},
            "programme measures",
        )
        seeding.set_m2m(agreed, agreed.agreed_by, list(programme.bodies.all()), "programme measure bodies")


def generated_value(rng, code, region_offset, index, month, measure):
    typical, _, noise, winter = SERIES[code]
    seasonal = winter if month.month in (12, 1, 2) else (winter / 2 if month.month in (11, 3) else 0)
    # A slow drift over the years, so that some charts show trends and runs.
    drift = math.sin(index / 18) * noise * 2
    value = typical + region_offset + seasonal + drift + rng.gauss(0, noise)
    if measure.unit == Measure.Unit.PERCENT:
        value = min(max(value, 0.0), 100.0)
    else:
        value = max(value, 0.1)
    return Decimal(f"{value:.1f}")


PUBLISHED = {
    "ae-4hr": ("ae", Path(settings.BASE_DIR) / "data" / "statistics" / "ae")
}  # real figures, imported as published


def seed_published(seeding):
    """The real published figures (data/statistics/, sources in data/README.md), through the importer: every
    trust's, local health system's, region's and England's. A figure a person corrected is kept."""
    for layout, folder in PUBLISHED.values():
        paths = sorted(folder.glob("*.csv.gz"))
        streams = [(path.name, path.open("rb")) for path in paths]
        try:
            result = statistics_import.import_statistics(streams, layout)
        finally:
            for _, stream in streams:
                stream.close()
        for outcome in ("created", "updated", "unchanged"):
            seeding.tally.counts[("measurements", outcome)] += getattr(result, outcome)
        seeding.tally.counts[("measurements", "unchanged")] += len(result.kept)  # corrected by staff: kept


def seed_measurements(measures, regions, today, seeding):
    """Monthly generated figures for every agreed measure without published figures, per active region and for
    England; the published ones (``PUBLISHED``) are imported as published."""
    seed_published(seeding)
    last = last_complete_month(today)
    agreed = sorted({code for _, code, _ in AGREED} - set(PUBLISHED))
    areas = [None] + [regions[c] for c in sorted(regions)]
    held = set(Measurement.objects.filter(measure__code__in=agreed).values_list("measure_id", "region_id", "month"))
    to_create = []
    for code in agreed:
        measure = measures[code]
        rng = random.Random(f"{RANDOM_SEED}-{code}")
        spread = SERIES[code][1]
        offsets = {area: (0.0 if area is None else rng.uniform(-spread, spread)) for area in areas}
        for index, month in enumerate(months(FIRST_MONTH, last)):
            for area in areas:
                value = generated_value(rng, code, offsets[area], index, month, measure)
                # Planted (measure-data-gap): the South East's figures stop GAP_MONTHS before the last month.
                if code == "eip-2wk" and area is not None and area.ods_code == "Y59":
                    cutoff = last
                    for _ in range(GAP_MONTHS):
                        cutoff = (cutoff - dt.timedelta(days=1)).replace(day=1)
                    if month > cutoff:
                        continue
                key = (measure.pk, area.pk if area else None, month)
                if key not in held:
                    to_create.append(
                        Measurement(
                            measure=measure, region=area, month=month, value=value, source=Measurement.Source.GENERATED
                        )
                    )
    if to_create:
        # Bulk, with history rows, so that the audit trail says when the generated figures arrived.
        bulk_create_with_history(to_create, Measurement, batch_size=2000)
    for _ in to_create:
        seeding.tally.add("measurements", "created")


def seed_users(bodies, regions, people, password, seeding):
    """The demonstration logins: created when missing; an existing one (and its password) is left alone."""
    users = []
    for username, first, last, role, region_code, person_email in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        values = {
            "first_name": first,
            "last_name": last,
            "email": person_email,
            "region": regions.get(region_code) if region_code else None,
            "is_active": True,
            "must_change_password": False,
        }
        password_set = False
        if user is None:
            user = User(username=username, **values)
            user.set_password(password)
            user.save()
            seeding.created.add((User, user.pk))
            password_set = True
            seeding.tally.add("demonstration logins", "created")
        elif seeding.reset:
            changed = [k for k, v in values.items() if getattr(user, k) != v]
            if not user.check_password(password):
                user.set_password(password)
                changed.append("password")
            password_set = True
            if changed:
                for key in changed:
                    if key != "password":
                        setattr(user, key, values[key])
                user.save()
                seeding.replaced.append(f"login “{username}”: {', '.join(changed)}")
                seeding.tally.add("demonstration logins", "updated")
        else:
            seeding.tally.add("demonstration logins", "unchanged")
        seeding.set_m2m(user, user.bodies, [bodies["NHSE"], bodies["NHSI"]], "login bodies")
        seeding.set_m2m(user, user.groups, [Group.objects.get(name=role)], "login roles")
        person = people[person_email]
        if person.user_id is None or (seeding.reset and person.user_id != user.pk):
            person.user = user
            person.save()
            seeding.tally.add("people", "updated")
        users.append((username, role, password_set))
    return users
