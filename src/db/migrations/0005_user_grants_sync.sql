-- user_grants is derived from user_roles and role_permissions. refresh_user_grants rewrites one
-- user's row from them; the triggers call it in the transaction that changes them.
--
-- Concurrency: two transactions changing one user's roles at once must not leave a row computed
-- from a snapshot that misses the other's change. The row is locked first, and the rewrite runs
-- as a later statement, whose READ COMMITTED snapshot includes whatever the lock waited for.
CREATE FUNCTION "refresh_user_grants"(uid uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- A user being deleted: the cascade removes the roles, and user_grants goes with the user.
  IF NOT EXISTS (SELECT 1 FROM "users" WHERE "id" = uid) THEN
    RETURN;
  END IF;
  INSERT INTO "user_grants" ("user_id") VALUES (uid) ON CONFLICT ("user_id") DO NOTHING;
  PERFORM 1 FROM "user_grants" WHERE "user_id" = uid FOR UPDATE;
  UPDATE "user_grants" SET
    "roles" = coalesce(
      (SELECT array_agg(ur."role_name" ORDER BY ur."role_name")
         FROM "user_roles" ur WHERE ur."user_id" = uid), '{}'),
    "permissions" = coalesce(
      (SELECT array_agg(DISTINCT rp."permission_name" ORDER BY rp."permission_name")
         FROM "user_roles" ur JOIN "role_permissions" rp ON rp."role_name" = ur."role_name"
        WHERE ur."user_id" = uid), '{}')
  WHERE "user_id" = uid;
END
$$;
--> statement-breakpoint
CREATE FUNCTION "user_roles_refresh_grants"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM "refresh_user_grants"(OLD."user_id");
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW."user_id" <> OLD."user_id") THEN
    PERFORM "refresh_user_grants"(NEW."user_id");
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "user_roles_refresh_grants"
  AFTER INSERT OR UPDATE OR DELETE ON "user_roles"
  FOR EACH ROW EXECUTE FUNCTION "user_roles_refresh_grants"();
--> statement-breakpoint
-- A role's permissions change only by migration or by hand; every holder of the role is rewritten.
CREATE FUNCTION "role_permissions_refresh_grants"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM "refresh_user_grants"(ur."user_id")
       FROM "user_roles" ur WHERE ur."role_name" = OLD."role_name";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM "refresh_user_grants"(ur."user_id")
       FROM "user_roles" ur WHERE ur."role_name" = NEW."role_name";
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "role_permissions_refresh_grants"
  AFTER INSERT OR UPDATE OR DELETE ON "role_permissions"
  FOR EACH ROW EXECUTE FUNCTION "role_permissions_refresh_grants"();
--> statement-breakpoint
SELECT "refresh_user_grants"("id") FROM "users";
