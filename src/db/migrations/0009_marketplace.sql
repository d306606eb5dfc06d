CREATE TABLE "bookings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"request_id" uuid NOT NULL,
	"quote_id" uuid NOT NULL,
	"homeowner_id" uuid,
	"provider_id" uuid,
	"price_cents" integer NOT NULL,
	"currency" text NOT NULL,
	"proposed_start" timestamp with time zone NOT NULL,
	"state" text DEFAULT 'scheduled' NOT NULL,
	"cancelled_by" text,
	"cancel_reason" text,
	"late_cancellation" boolean DEFAULT false NOT NULL,
	"completed_at" timestamp with time zone,
	"dispute_reason" text,
	"resolution" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bookings_state" CHECK ("bookings"."state" in ('scheduled', 'in_progress', 'completed', 'confirmed', 'cancelled', 'disputed', 'resolved')),
	CONSTRAINT "bookings_cancelled_by" CHECK ("bookings"."cancelled_by" is null or "bookings"."cancelled_by" in ('homeowner', 'provider', 'admin', 'system'))
);
--> statement-breakpoint
CREATE TABLE "job_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"homeowner_id" uuid,
	"property_id" uuid,
	"service_id" uuid,
	"direct_provider_id" uuid,
	"category" text NOT NULL,
	"postal_code" text NOT NULL,
	"city" text NOT NULL,
	"title" text NOT NULL,
	"description" text NOT NULL,
	"earliest_date" date NOT NULL,
	"latest_date" date NOT NULL,
	"time_of_day" text,
	"budget_cents" integer,
	"currency" text,
	"state" text DEFAULT 'open' NOT NULL,
	"cancel_reason" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_requests_state" CHECK ("job_requests"."state" in ('open', 'booked', 'cancelled', 'expired')),
	CONSTRAINT "job_requests_window" CHECK ("job_requests"."earliest_date" <= "job_requests"."latest_date"),
	CONSTRAINT "job_requests_budget" CHECK (("job_requests"."budget_cents" is null) = ("job_requests"."currency" is null) and coalesce("job_requests"."budget_cents", 0) >= 0)
);
--> statement-breakpoint
CREATE TABLE "quotes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"request_id" uuid NOT NULL,
	"provider_id" uuid,
	"service_id" uuid,
	"price_cents" integer NOT NULL,
	"currency" text NOT NULL,
	"message" text NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"proposed_start" timestamp with time zone NOT NULL,
	"state" text DEFAULT 'live' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quotes_state" CHECK ("quotes"."state" in ('live', 'replaced', 'withdrawn', 'declined', 'expired', 'accepted')),
	CONSTRAINT "quotes_price" CHECK ("quotes"."price_cents" >= 0)
);
--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_request_id_job_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."job_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_quote_id_quotes_id_fk" FOREIGN KEY ("quote_id") REFERENCES "public"."quotes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_homeowner_id_users_id_fk" FOREIGN KEY ("homeowner_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_provider_id_users_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_requests" ADD CONSTRAINT "job_requests_homeowner_id_users_id_fk" FOREIGN KEY ("homeowner_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_requests" ADD CONSTRAINT "job_requests_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_requests" ADD CONSTRAINT "job_requests_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_requests" ADD CONSTRAINT "job_requests_direct_provider_id_users_id_fk" FOREIGN KEY ("direct_provider_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quotes" ADD CONSTRAINT "quotes_request_id_job_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."job_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quotes" ADD CONSTRAINT "quotes_provider_id_users_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quotes" ADD CONSTRAINT "quotes_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bookings_request_key" ON "bookings" USING btree ("request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bookings_quote_key" ON "bookings" USING btree ("quote_id");--> statement-breakpoint
CREATE INDEX "bookings_homeowner_idx" ON "bookings" USING btree ("homeowner_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "bookings_homeowner_state_idx" ON "bookings" USING btree ("homeowner_id","state","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "bookings_provider_idx" ON "bookings" USING btree ("provider_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "bookings_provider_state_idx" ON "bookings" USING btree ("provider_id","state","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "bookings_state_idx" ON "bookings" USING btree ("state","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_requests_homeowner_idx" ON "job_requests" USING btree ("homeowner_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_requests_feed_idx" ON "job_requests" USING btree ("category","postal_code","id" DESC NULLS LAST) WHERE "job_requests"."state" = 'open';--> statement-breakpoint
CREATE INDEX "job_requests_open_idx" ON "job_requests" USING btree ("id" DESC NULLS LAST) WHERE "job_requests"."state" = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX "quotes_live_key" ON "quotes" USING btree ("request_id","provider_id") WHERE "quotes"."state" = 'live';--> statement-breakpoint
CREATE INDEX "quotes_request_idx" ON "quotes" USING btree ("request_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "quotes_provider_idx" ON "quotes" USING btree ("provider_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "quotes_service_live_idx" ON "quotes" USING btree ("service_id") WHERE "quotes"."state" = 'live';