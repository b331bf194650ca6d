"""The themes programmes are grouped by: a short code kept on the programme, and the name people read."""

THEMES = {
    "cancer": "Cancer",
    "elective-care": "Elective care",
    "finance": "Finance",
    "improvement": "Improvement",
    "learning-disability": "Learning disability and autism",
    "maternity": "Maternity",
    "mental-health": "Mental health",
    "oversight": "Oversight",
    "primary-care": "Primary care",
    "productivity": "Productivity",
    "quality": "Quality",
    "regulation": "Regulation",
    "specialised-services": "Specialised services",
    "strategy": "Strategy",
    "systems": "Integrated care systems",
    "urgent-care": "Urgent and emergency care",
    "value": "Value",
}


def theme_name(code):
    """The name of a theme: from the list above, or the code in words (``new-theme`` as "New theme")."""
    if not code:
        return ""
    return THEMES.get(code) or code.replace("-", " ").replace("_", " ").capitalize()


def theme_choices():
    """The themes people can choose, by name (a name shared by two codes is offered once, by its first code)."""
    seen, choices = set(), []
    for code, name in sorted(THEMES.items(), key=lambda item: (item[1], item[0])):
        if name not in seen:
            seen.add(name)
            choices.append((code, name))
    return choices
