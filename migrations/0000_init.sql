CREATE TABLE "instance_infra" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"name" text,
	"lifecycle" text NOT NULL,
	"legacy" boolean DEFAULT false NOT NULL,
	"image" text NOT NULL,
	"url" text,
	"railway_project_id" text,
	"railway_environment_id" text,
	"railway_service_id" text,
	"railway_volume_id" text,
	"railway_domain" text,
	"deploy_status" text,
	"token_hash" text,
	"runtime_credential" text,
	"request_hash" text,
	"error_code" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"destroyed_at" timestamp with time zone,
	CONSTRAINT "instance_infra_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "instance_infra_lifecycle_check" CHECK ("instance_infra"."lifecycle" in ('creating', 'ready', 'failed', 'destroying', 'destroyed'))
);
--> statement-breakpoint
CREATE TABLE "instance_services" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" text NOT NULL,
	"tool_id" text NOT NULL,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"resource_id" text,
	"idempotency_key" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secret" text,
	"env_keys" text[] DEFAULT '{}'::text[] NOT NULL,
	"error_code" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"destroyed_at" timestamp with time zone,
	CONSTRAINT "instance_services_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "instance_services_tool_id_check" CHECK ("instance_services"."tool_id" in ('openrouter', 'wallet', 'email', 'sms', 'crypto')),
	CONSTRAINT "instance_services_mode_check" CHECK ("instance_services"."mode" in ('pool', 'user')),
	CONSTRAINT "instance_services_status_check" CHECK ("instance_services"."status" in ('provisioning', 'active', 'releasing', 'failed', 'destroyed'))
);
--> statement-breakpoint
ALTER TABLE "instance_services" ADD CONSTRAINT "instance_services_instance_id_instance_infra_instance_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instance_infra"("instance_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "instance_infra_lifecycle_idx" ON "instance_infra" USING btree ("lifecycle");--> statement-breakpoint
CREATE UNIQUE INDEX "instance_services_one_live_per_tool_idx" ON "instance_services" USING btree ("instance_id","tool_id") WHERE "instance_services"."status" <> 'destroyed';--> statement-breakpoint
CREATE INDEX "instance_services_instance_id_idx" ON "instance_services" USING btree ("instance_id");