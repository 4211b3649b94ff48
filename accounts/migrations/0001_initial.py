from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="WorkflowAccess",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("spec_id", models.CharField(max_length=100, unique=True)),
            ],
            options={
                "verbose_name": "workflow access",
                "verbose_name_plural": "workflow access",
                "default_permissions": (),
                "permissions": [
                    ("view_workflow", "Can see the workflow, its cases and its work items"),
                    ("start_workflow", "Can start cases of the workflow (with the operate_cases capability)"),
                    ("admin_workflow", "Can delete the workflow and grant rights on it"),
                    ("register_workflow", "Can register workflow specifications"),
                    ("operate_cases", "Can start, suspend, resume and cancel cases"),
                    ("work_items", "Can start and complete work items offered to them"),
                ],
            },
        ),
    ]
