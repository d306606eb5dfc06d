CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"key" text,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"run_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"locked_until" timestamp with time zone,
	"locked_by" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_state" CHECK ("jobs"."state" in ('pending', 'done', 'failed')),
	CONSTRAINT "jobs_attempts" CHECK ("jobs"."attempts" >= 0 and "jobs"."max_attempts" >= 1)
);
--> statement-breakpoint
DROP INDEX "mail_outbox_due_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_name_key" ON "jobs" USING btree ("name","key");--> statement-breakpoint
CREATE INDEX "jobs_due_idx" ON "jobs" USING btree ("run_at") WHERE "jobs"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "jobs_finished_idx" ON "jobs" USING btree ("state","finished_at") WHERE "jobs"."state" <> 'pending';--> statement-breakpoint
CREATE INDEX "audit_events_created_idx" ON "audit_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "mail_outbox_finished_idx" ON "mail_outbox" USING btree ("created_at") WHERE "mail_outbox"."status" <> 'pending';--> statement-breakpoint
CREATE INDEX "one_time_tokens_ended_idx" ON "one_time_tokens" USING btree (least("consumed_at", "expires_at"));--> statement-breakpoint
CREATE INDEX "refresh_tokens_used_idx" ON "refresh_tokens" USING btree ("used_at") WHERE "refresh_tokens"."used_at" is not null;--> statement-breakpoint
CREATE INDEX "sessions_ended_idx" ON "sessions" USING btree (least("expires_at", "revoked_at"));--> statement-breakpoint
-- Mail still waiting at upgrade: its delivery becomes a mail.deliver job, due when the old row said.
INSERT INTO "jobs" ("id", "name", "key", "payload", "run_at", "attempts", "max_attempts")
SELECT gen_random_uuid(), 'mail.deliver', "id"::text, jsonb_build_object('mailId', "id"),
       "next_attempt_at", "attempts", greatest(12, "attempts" + 1)
  FROM "mail_outbox" WHERE "status" = 'pending';--> statement-breakpoint
ALTER TABLE "mail_outbox" DROP COLUMN "next_attempt_at";