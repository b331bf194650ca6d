"""The consultations' daily tasks (the Celery beat schedule in nhs_joint/settings/base.py): the reminder 7
days before a consultation closes, and its close once the closing date has passed. Each does its work once
however often it runs (asks/services.py claims each consultation before telling anyone)."""

from celery import shared_task

from . import services


@shared_task(name="asks.remind_consultations", ignore_result=True)
def remind_consultations():
    return services.remind_consultations()


@shared_task(name="asks.close_consultations", ignore_result=True)
def close_consultations():
    return services.close_consultations()
