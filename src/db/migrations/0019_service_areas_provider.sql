-- service_areas learns each row's provider (filled from services, then required), so that "does
-- this provider serve (category, postal code)" is one probe of service_areas_provider_idx: the
-- provider feed asks it of every open request it reads, where it used to walk the provider's
-- services one by one.
ALTER TABLE "service_areas" ADD COLUMN "provider_id" uuid;--> statement-breakpoint
UPDATE "service_areas" sa SET "provider_id" = s."provider_id" FROM "services" s WHERE s."id" = sa."service_id";--> statement-breakpoint
ALTER TABLE "service_areas" ALTER COLUMN "provider_id" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "service_areas_provider_idx" ON "service_areas" USING btree ("provider_id","category","postal_code");--> statement-breakpoint
CREATE OR REPLACE FUNCTION "services_sync_areas"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM "service_areas" WHERE "service_id" = NEW."id";
  END IF;
  IF NEW."is_active" THEN
    INSERT INTO "service_areas" ("postal_code", "service_id", "category", "provider_id")
    SELECT DISTINCT code, NEW."id", NEW."category", NEW."provider_id" FROM unnest(NEW."postal_codes") AS code;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER "services_sync_areas" ON "services";--> statement-breakpoint
CREATE TRIGGER "services_sync_areas"
  AFTER INSERT OR UPDATE OF "postal_codes", "category", "is_active", "provider_id" ON "services"
  FOR EACH ROW EXECUTE FUNCTION "services_sync_areas"();
