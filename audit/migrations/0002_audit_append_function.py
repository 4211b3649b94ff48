"""PostgreSQL: `knhk_audit_append(batch jsonb)` extends the audit chain in one statement.

It locks the chain head, gives each record of the batch its seq and its hash (sha256 of
"<previous hash>:<seq>:<content digest>", the same as `audit.chain.link_hash`), inserts them, moves the
head and returns (id, seq, prev_hash, hash) per record. The head stays locked until the caller's
transaction ends. Other databases append from Python (audit.services.record_many).
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION knhk_audit_append(batch jsonb)
RETURNS TABLE (rec_id bigint, rec_seq bigint, rec_prev varchar, rec_hash varchar)
LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash varchar;
    entry jsonb;
BEGIN
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_audithead h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_audithead (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_audithead h WHERE h.id = 1 FOR UPDATE;
    END IF;
    FOR entry IN SELECT value FROM jsonb_array_elements(batch) LOOP
        head_seq := head_seq + 1;
        rec_seq := head_seq;
        rec_prev := head_hash;
        rec_hash := encode(sha256(convert_to(head_hash || ':' || head_seq::text || ':' || (entry->>'digest'),
                                             'UTF8')), 'hex');
        INSERT INTO audit_auditrecord (seq, at, actor, action, outcome, workflow_id, case_id, work_item,
                                       request_id, data, prev_hash, hash)
        VALUES (head_seq, (entry->>'at')::timestamptz, entry->>'actor', entry->>'action', entry->>'outcome',
                entry->>'workflow_id', entry->>'case_id', entry->>'work_item', entry->>'request_id',
                entry->'data', head_hash, rec_hash)
        RETURNING id INTO rec_id;
        RETURN NEXT;
        head_hash := rec_hash;
    END LOOP;
    UPDATE audit_audithead SET seq = head_seq, hash = head_hash WHERE id = 1;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS knhk_audit_append(jsonb);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
