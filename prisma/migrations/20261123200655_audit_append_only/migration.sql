-- Hand-written: the audit log is append-only. The application only ever inserts entries; this trigger
-- makes that a property of the database too. The one change allowed is the foreign keys' ON DELETE SET
-- NULL, which clears an actor link when the user, token or agent is deleted (the entry keeps
-- actor_label, the readable name as it was).
CREATE FUNCTION "audit_logs_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_logs is append-only: entries cannot be deleted'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW."id", NEW."created_at", NEW."actor_type", NEW."actor_label", NEW."action", NEW."target_type",
      NEW."target_id", NEW."before", NEW."after", NEW."ip", NEW."user_agent")
     IS DISTINCT FROM
     (OLD."id", OLD."created_at", OLD."actor_type", OLD."actor_label", OLD."action", OLD."target_type",
      OLD."target_id", OLD."before", OLD."after", OLD."ip", OLD."user_agent")
     OR (NEW."actor_user_id" IS NOT NULL AND NEW."actor_user_id" IS DISTINCT FROM OLD."actor_user_id")
     OR (NEW."actor_token_id" IS NOT NULL AND NEW."actor_token_id" IS DISTINCT FROM OLD."actor_token_id")
     OR (NEW."actor_agent_id" IS NOT NULL AND NEW."actor_agent_id" IS DISTINCT FROM OLD."actor_agent_id") THEN
    RAISE EXCEPTION 'audit_logs is append-only: entries cannot be changed'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "audit_logs_append_only"
  BEFORE UPDATE OR DELETE ON "audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "audit_logs_append_only"();
