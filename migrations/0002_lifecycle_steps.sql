CREATE TABLE "instance_steps" (
	"instance_id" text NOT NULL,
	"operation" text NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"error_code" text,
	"error_message" text,
	CONSTRAINT "instance_steps_instance_id_operation_name_pk" PRIMARY KEY("instance_id","operation","name"),
	CONSTRAINT "instance_steps_operation_check" CHECK ("instance_steps"."operation" in ('create', 'destroy')),
	CONSTRAINT "instance_steps_state_check" CHECK ("instance_steps"."state" in ('pending', 'running', 'done', 'failed', 'compensated'))
);
--> statement-breakpoint
ALTER TABLE "instance_infra" ADD COLUMN "create_request" jsonb;--> statement-breakpoint
ALTER TABLE "instance_steps" ADD CONSTRAINT "instance_steps_instance_id_instance_infra_instance_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instance_infra"("instance_id") ON DELETE cascade ON UPDATE no action;