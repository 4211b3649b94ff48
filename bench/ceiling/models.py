from django.db import models

from bench.ceiling import TABLE


class CeilingRow(models.Model):
    """One row per ceiling request; the table is created by bench/http.py, not by migrations."""

    id = models.BigAutoField(primary_key=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = TABLE
