-- service_areas is derived from services: one row per distinct postal code of an active service.
-- The trigger rewrites a service's rows whenever what they depend on changes, in the same
-- transaction as the change, so the catalog never sees the two disagree.
CREATE FUNCTION "services_sync_areas"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM "service_areas" WHERE "service_id" = NEW."id";
  END IF;
  IF NEW."is_active" THEN
    INSERT INTO "service_areas" ("postal_code", "service_id", "category")
    SELECT DISTINCT code, NEW."id", NEW."category" FROM unnest(NEW."postal_codes") AS code;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "services_sync_areas"
  AFTER INSERT OR UPDATE OF "postal_codes", "category", "is_active" ON "services"
  FOR EACH ROW EXECUTE FUNCTION "services_sync_areas"();
--> statement-breakpoint
INSERT INTO "service_areas" ("postal_code", "service_id", "category")
SELECT DISTINCT code, s."id", s."category"
  FROM "services" s, unnest(s."postal_codes") AS code
 WHERE s."is_active";
