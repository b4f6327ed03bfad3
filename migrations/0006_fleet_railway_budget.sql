CREATE TABLE "fleet_rate_buckets" (
	"name" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "railway_creation_slots" (
	"slot" integer PRIMARY KEY NOT NULL,
	"instance_id" text,
	"owner" text,
	"taken_at" timestamp with time zone
);
