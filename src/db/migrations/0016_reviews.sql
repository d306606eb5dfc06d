CREATE TABLE "provider_ratings" (
	"provider_id" uuid PRIMARY KEY NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	"sum" integer DEFAULT 0 NOT NULL,
	"average" double precision,
	"bayesian" double precision NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_ratings_count" CHECK ("provider_ratings"."count" >= 0 and "provider_ratings"."sum" >= 0)
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"booking_id" uuid NOT NULL,
	"author_role" text NOT NULL,
	"author_id" uuid,
	"subject_id" uuid,
	"rating" smallint NOT NULL,
	"text" text NOT NULL,
	"published_at" timestamp with time zone,
	"reply" text,
	"replied_at" timestamp with time zone,
	"hidden_at" timestamp with time zone,
	"hidden_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reviews_rating" CHECK ("reviews"."rating" between 1 and 5),
	CONSTRAINT "reviews_author_role" CHECK ("reviews"."author_role" in ('homeowner', 'provider')),
	CONSTRAINT "reviews_reply_pair" CHECK (("reviews"."reply" is null) = ("reviews"."replied_at" is null))
);
--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "rating_bayes" double precision DEFAULT 3.5 NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "rating_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "rating_average" double precision;--> statement-breakpoint
ALTER TABLE "provider_ratings" ADD CONSTRAINT "provider_ratings_provider_id_users_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_booking_id_bookings_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_subject_id_users_id_fk" FOREIGN KEY ("subject_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "reviews_booking_author_key" ON "reviews" USING btree ("booking_id","author_role");--> statement-breakpoint
CREATE INDEX "reviews_subject_public_idx" ON "reviews" USING btree ("subject_id","author_role","id" DESC NULLS LAST) WHERE "reviews"."published_at" is not null and "reviews"."hidden_at" is null;--> statement-breakpoint
CREATE INDEX "reviews_author_idx" ON "reviews" USING btree ("author_id","author_role","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "services_catalog_rating_idx" ON "services" USING btree ("rating_bayes" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "services"."is_active";--> statement-breakpoint
CREATE INDEX "services_catalog_price_idx" ON "services" USING btree (coalesce("price_cents", 2147483647),"id") WHERE "services"."is_active";--> statement-breakpoint
CREATE INDEX "services_catalog_min_rating_idx" ON "services" USING btree ("rating_average" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "services"."is_active" and "services"."rating_average" is not null;--> statement-breakpoint
-- Bookings confirmed before this column existed: their last change was the confirmation.
UPDATE "bookings" SET "confirmed_at" = "updated_at" WHERE "state" = 'confirmed' AND "confirmed_at" IS NULL;
