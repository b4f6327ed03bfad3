CREATE TABLE "phone_number_pool" (
	"phone_number" text PRIMARY KEY NOT NULL,
	"telnyx_number_id" text NOT NULL,
	"messaging_profile_id" text NOT NULL,
	"claimed_by" text,
	"released_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "phone_number_pool_claimed_by_unique" UNIQUE("claimed_by"),
	CONSTRAINT "phone_number_pool_claimed_xor_released_check" CHECK (("phone_number_pool"."claimed_by" is null) <> ("phone_number_pool"."released_at" is null)),
	CONSTRAINT "phone_number_pool_e164_check" CHECK ("phone_number_pool"."phone_number" ~ '^\+[1-9][0-9]{6,14}$')
);
--> statement-breakpoint
CREATE INDEX "phone_number_pool_idle_idx" ON "phone_number_pool" USING btree ("released_at") WHERE "phone_number_pool"."released_at" is not null;