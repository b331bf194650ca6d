from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "collaboration"
    verbose_name = "Comments, board papers and saved views"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, panels
        from .models import Attachment, Comment

        registry.add_detail_panel(
            "attachments", panels.attachments_panel, 50, models=[Attachment], reads=panels.attachments_reads
        )
        registry.add_detail_panel("comments", panels.comments_panel, 60, models=[Comment], reads=panels.comments_reads)
        registry.add_api("comments", api.CommentViewSet, "comment")
        registry.add_api("attachments", api.AttachmentViewSet, "attachment")
        registry.add_api("saved-views", api.SavedViewViewSet, "saved-view")
        registry.template_globals["save_view_control"] = panels.save_view_control
        registry.template_globals["saved_views_list"] = panels.saved_views_list
        registry.add_my_work_section("saved-views", panels.my_work_saved_views, 50)
