ALTER TABLE "instance_infra" ADD COLUMN "configure_hash" text;--> statement-breakpoint
ALTER TABLE "instance_infra" ADD COLUMN "configure_result" jsonb;--> statement-breakpoint
ALTER TABLE "instance_infra" ADD COLUMN "pending_env" text;