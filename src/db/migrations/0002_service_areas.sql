CREATE TABLE "service_areas" (
	"postal_code" text NOT NULL,
	"service_id" uuid NOT NULL,
	"category" text NOT NULL,
	CONSTRAINT "service_areas_postal_code_service_id_pk" PRIMARY KEY("postal_code","service_id")
);
--> statement-breakpoint
ALTER TABLE "service_areas" ADD CONSTRAINT "service_areas_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "service_areas_category_idx" ON "service_areas" USING btree ("postal_code","category","service_id");--> statement-breakpoint
CREATE INDEX "service_areas_service_idx" ON "service_areas" USING btree ("service_id");