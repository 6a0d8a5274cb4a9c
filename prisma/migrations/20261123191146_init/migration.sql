-- CreateEnum
CREATE TYPE "role" AS ENUM ('ADMIN', 'OPERATOR', 'VIEWER');

-- CreateEnum
CREATE TYPE "audit_actor_type" AS ENUM ('USER', 'API_TOKEN', 'AGENT', 'SYSTEM');

-- CreateEnum
CREATE TYPE "agent_status" AS ENUM ('PENDING', 'ACTIVE', 'DISABLED', 'REVOKED');

-- CreateEnum
CREATE TYPE "architecture" AS ENUM ('X86_BIOS', 'X86_UEFI', 'X86_64_UEFI', 'ARM32_UEFI', 'ARM64_UEFI', 'RISCV64_UEFI');

-- CreateEnum
CREATE TYPE "power_driver" AS ENUM ('NONE', 'SIMULATED', 'REDFISH', 'IPMI', 'WOL', 'SSH');

-- CreateEnum
CREATE TYPE "host_state" AS ENUM ('UNKNOWN', 'BOOTING', 'UP', 'FAILED', 'MAINTENANCE', 'REBOOTING');

-- CreateEnum
CREATE TYPE "layer_status" AS ENUM ('UPLOADING', 'INDEXING', 'READY', 'FAILED');

-- CreateEnum
CREATE TYPE "upload_status" AS ENUM ('ACTIVE', 'COMPLETED', 'ABORTED', 'EXPIRED', 'FAILED');

-- CreateEnum
CREATE TYPE "release_status" AS ENUM ('DRAFT', 'PUBLISHED', 'RETIRED');

-- CreateEnum
CREATE TYPE "signing_key_state" AS ENUM ('ACTIVE', 'RETIRED', 'REVOKED');

-- CreateEnum
CREATE TYPE "rollout_status" AS ENUM ('PLANNED', 'RUNNING', 'PAUSED', 'COMPLETED', 'ABORTED', 'FAILED');

-- CreateEnum
CREATE TYPE "rollout_wave_status" AS ENUM ('PENDING', 'RUNNING', 'GATING', 'COMPLETED', 'FAILED', 'ABORTED');

-- CreateEnum
CREATE TYPE "rollout_target_state" AS ENUM ('PENDING', 'COMMANDED', 'REBOOTING', 'BOOTED', 'FAILED', 'SKIPPED');

-- CreateEnum
CREATE TYPE "agent_command_type" AS ENUM ('REBOOT', 'POWER_ON', 'POWER_OFF', 'SYNC');

-- CreateEnum
CREATE TYPE "agent_command_status" AS ENUM ('QUEUED', 'SENT', 'ACKED', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "boot_event_kind" AS ENUM ('DISCOVER', 'OFFER', 'REQUEST', 'ACK', 'NAK', 'TFTP_START', 'TFTP_DONE', 'MANIFEST', 'TRANSFER', 'BOOTED', 'FAILED');

-- CreateEnum
CREATE TYPE "boot_protocol" AS ENUM ('BOOTP', 'DHCP', 'TURBO', 'TFTP', 'TFTP_BROADCAST', 'TFTP_MULTICAST', 'HTTP');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "password_hash" TEXT,
    "role" "role" NOT NULL DEFAULT 'VIEWER',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "session_version" INTEGER NOT NULL DEFAULT 0,
    "last_login_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "prefix" VARCHAR(32) NOT NULL,
    "secret_hash" VARCHAR(128) NOT NULL,
    "role" "role" NOT NULL,
    "created_by_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_logs" (
    "id" BIGSERIAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_type" "audit_actor_type" NOT NULL,
    "actor_user_id" UUID,
    "actor_token_id" UUID,
    "actor_agent_id" UUID,
    "actor_label" VARCHAR(320) NOT NULL,
    "action" VARCHAR(100) NOT NULL,
    "target_type" VARCHAR(50),
    "target_id" VARCHAR(100),
    "before" JSONB,
    "after" JSONB,
    "ip" INET,
    "user_agent" VARCHAR(500),

    CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sites" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subnets" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "cidr" INET NOT NULL,
    "gateway" INET,
    "dns_servers" INET[] DEFAULT ARRAY[]::INET[],
    "broadcast_address" INET,
    "multicast_range_start" INET,
    "multicast_range_end" INET,
    "lease_time_seconds" INTEGER NOT NULL DEFAULT 3600,
    "pool_start" INET,
    "pool_end" INET,
    "agent_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subnets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agents" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "status" "agent_status" NOT NULL DEFAULT 'PENDING',
    "enrollment_token_hash" VARCHAR(128),
    "enrollment_expires_at" TIMESTAMPTZ(3),
    "credential_hash" VARCHAR(128),
    "public_key" TEXT,
    "enrolled_at" TIMESTAMPTZ(3),
    "version" VARCHAR(64),
    "last_seen_at" TIMESTAMPTZ(3),
    "addresses" INET[] DEFAULT ARRAY[]::INET[],
    "config_revision" INTEGER NOT NULL DEFAULT 0,
    "applied_config_revision" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "agents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hosts" (
    "id" UUID NOT NULL,
    "mac" VARCHAR(59) NOT NULL,
    "hostname" VARCHAR(253) NOT NULL,
    "ipv4" INET,
    "subnet_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "architecture" "architecture",
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "failure_domain" VARCHAR(100),
    "boot_profile_id" UUID,
    "desired_release_id" UUID,
    "current_release_id" UUID,
    "power_driver" "power_driver" NOT NULL DEFAULT 'NONE',
    "power_params" JSONB NOT NULL DEFAULT '{}',
    "power_secret" BYTEA,
    "state" "host_state" NOT NULL DEFAULT 'UNKNOWN',
    "state_changed_at" TIMESTAMPTZ(3),
    "last_boot_at" TIMESTAMPTZ(3),
    "last_seen_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "hosts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "boot_profiles" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "boot_profiles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "boot_profile_entries" (
    "id" UUID NOT NULL,
    "profile_id" UUID NOT NULL,
    "architecture" "architecture" NOT NULL,
    "release_id" UUID,
    "boot_file" VARCHAR(255),
    "kernel_cmdline" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "boot_profile_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "images" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "layers" (
    "id" UUID NOT NULL,
    "image_id" UUID,
    "digest" VARCHAR(80) NOT NULL,
    "size" BIGINT NOT NULL,
    "media_type" VARCHAR(255) NOT NULL,
    "chunk_index_digest" VARCHAR(80),
    "chunk_count" INTEGER,
    "storage_key" VARCHAR(500) NOT NULL,
    "status" "layer_status" NOT NULL DEFAULT 'UPLOADING',
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "layers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "uploads" (
    "id" UUID NOT NULL,
    "image_id" UUID,
    "media_type" VARCHAR(255) NOT NULL,
    "expected_size" BIGINT NOT NULL,
    "expected_digest" VARCHAR(80),
    "bytes_received" BIGINT NOT NULL DEFAULT 0,
    "temp_path" VARCHAR(500) NOT NULL,
    "status" "upload_status" NOT NULL DEFAULT 'ACTIVE',
    "error" TEXT,
    "layer_id" UUID,
    "created_by_id" UUID,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "uploads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "releases" (
    "id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "version" VARCHAR(100) NOT NULL,
    "kernel_cmdline" TEXT NOT NULL DEFAULT '',
    "manifest" BYTEA,
    "manifest_digest" VARCHAR(80),
    "status" "release_status" NOT NULL DEFAULT 'DRAFT',
    "notes" TEXT NOT NULL DEFAULT '',
    "created_by_id" UUID,
    "published_at" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "releases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "release_layers" (
    "release_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "layer_id" UUID NOT NULL,

    CONSTRAINT "release_layers_pkey" PRIMARY KEY ("release_id","position")
);

-- CreateTable
CREATE TABLE "release_signatures" (
    "release_id" UUID NOT NULL,
    "signing_key_id" UUID NOT NULL,
    "signature" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "release_signatures_pkey" PRIMARY KEY ("release_id","signing_key_id")
);

-- CreateTable
CREATE TABLE "signing_keys" (
    "id" UUID NOT NULL,
    "key_id" VARCHAR(100) NOT NULL,
    "algorithm" VARCHAR(20) NOT NULL DEFAULT 'ed25519',
    "public_key" BYTEA NOT NULL,
    "encrypted_private_key" BYTEA NOT NULL,
    "state" "signing_key_state" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollouts" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "release_id" UUID NOT NULL,
    "selector" JSONB NOT NULL,
    "wave_plan" JSONB NOT NULL,
    "pacing" JSONB NOT NULL,
    "health_gate" JSONB NOT NULL,
    "status" "rollout_status" NOT NULL DEFAULT 'PLANNED',
    "paused_reason" TEXT,
    "created_by_id" UUID,
    "started_at" TIMESTAMPTZ(3),
    "paused_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_waves" (
    "id" UUID NOT NULL,
    "rollout_id" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "status" "rollout_wave_status" NOT NULL DEFAULT 'PENDING',
    "gate_result" JSONB,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollout_waves_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_targets" (
    "id" UUID NOT NULL,
    "rollout_id" UUID NOT NULL,
    "wave_id" UUID NOT NULL,
    "host_id" UUID NOT NULL,
    "state" "rollout_target_state" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "command_id" UUID,
    "last_error" TEXT,
    "commanded_at" TIMESTAMPTZ(3),
    "booted_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rollout_targets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent_commands" (
    "id" UUID NOT NULL,
    "agent_id" UUID NOT NULL,
    "host_id" UUID,
    "type" "agent_command_type" NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "agent_command_status" NOT NULL DEFAULT 'QUEUED',
    "idempotency_key" VARCHAR(200) NOT NULL,
    "result" JSONB,
    "error" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "acked_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "agent_commands_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "boot_events" (
    "id" BIGSERIAL NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "agent_id" UUID,
    "agent_seq" BIGINT,
    "host_id" UUID,
    "mac" VARCHAR(59) NOT NULL,
    "subnet_id" UUID,
    "kind" "boot_event_kind" NOT NULL,
    "protocol" "boot_protocol",
    "latency_ms" INTEGER,
    "bytes" BIGINT,
    "cache_hit" BOOLEAN,
    "release_id" UUID,
    "details" JSONB,

    CONSTRAINT "boot_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dhcp_leases" (
    "id" UUID NOT NULL,
    "subnet_id" UUID NOT NULL,
    "agent_id" UUID,
    "host_id" UUID,
    "mac" VARCHAR(59) NOT NULL,
    "ipv4" INET NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dhcp_leases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings" (
    "key" VARCHAR(100) NOT NULL,
    "value" JSONB NOT NULL,
    "updated_by_id" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_secret_hash_key" ON "api_tokens"("secret_hash");

-- CreateIndex
CREATE INDEX "api_tokens_created_by_id_idx" ON "api_tokens"("created_by_id");

-- CreateIndex
CREATE INDEX "audit_logs_created_at_idx" ON "audit_logs"("created_at");

-- CreateIndex
CREATE INDEX "audit_logs_action_created_at_idx" ON "audit_logs"("action", "created_at");

-- CreateIndex
CREATE INDEX "audit_logs_target_type_target_id_created_at_idx" ON "audit_logs"("target_type", "target_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_logs_actor_user_id_created_at_idx" ON "audit_logs"("actor_user_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_logs_actor_token_id_created_at_idx" ON "audit_logs"("actor_token_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_logs_actor_agent_id_created_at_idx" ON "audit_logs"("actor_agent_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "sites_name_key" ON "sites"("name");

-- CreateIndex
CREATE INDEX "subnets_agent_id_idx" ON "subnets"("agent_id");

-- CreateIndex
CREATE UNIQUE INDEX "subnets_site_id_name_key" ON "subnets"("site_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "subnets_site_id_cidr_key" ON "subnets"("site_id", "cidr");

-- CreateIndex
CREATE UNIQUE INDEX "subnets_id_site_id_key" ON "subnets"("id", "site_id");

-- CreateIndex
CREATE UNIQUE INDEX "agents_enrollment_token_hash_key" ON "agents"("enrollment_token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "agents_credential_hash_key" ON "agents"("credential_hash");

-- CreateIndex
CREATE UNIQUE INDEX "agents_site_id_name_key" ON "agents"("site_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "hosts_mac_key" ON "hosts"("mac");

-- CreateIndex
CREATE INDEX "hosts_site_id_hostname_idx" ON "hosts"("site_id", "hostname");

-- CreateIndex
CREATE INDEX "hosts_hostname_idx" ON "hosts"("hostname");

-- CreateIndex
CREATE INDEX "hosts_state_idx" ON "hosts"("state");

-- CreateIndex
CREATE INDEX "hosts_boot_profile_id_idx" ON "hosts"("boot_profile_id");

-- CreateIndex
CREATE INDEX "hosts_desired_release_id_idx" ON "hosts"("desired_release_id");

-- CreateIndex
CREATE INDEX "hosts_current_release_id_idx" ON "hosts"("current_release_id");

-- CreateIndex
CREATE INDEX "hosts_failure_domain_idx" ON "hosts"("failure_domain");

-- CreateIndex
CREATE INDEX "hosts_last_boot_at_idx" ON "hosts"("last_boot_at");

-- CreateIndex
CREATE INDEX "hosts_tags_idx" ON "hosts" USING GIN ("tags");

-- CreateIndex
CREATE UNIQUE INDEX "hosts_subnet_id_ipv4_key" ON "hosts"("subnet_id", "ipv4");

-- CreateIndex
CREATE UNIQUE INDEX "boot_profiles_name_key" ON "boot_profiles"("name");

-- CreateIndex
CREATE INDEX "boot_profile_entries_release_id_idx" ON "boot_profile_entries"("release_id");

-- CreateIndex
CREATE UNIQUE INDEX "boot_profile_entries_profile_id_architecture_key" ON "boot_profile_entries"("profile_id", "architecture");

-- CreateIndex
CREATE UNIQUE INDEX "images_name_key" ON "images"("name");

-- CreateIndex
CREATE UNIQUE INDEX "layers_digest_key" ON "layers"("digest");

-- CreateIndex
CREATE INDEX "layers_image_id_idx" ON "layers"("image_id");

-- CreateIndex
CREATE INDEX "layers_status_idx" ON "layers"("status");

-- CreateIndex
CREATE INDEX "uploads_status_expires_at_idx" ON "uploads"("status", "expires_at");

-- CreateIndex
CREATE INDEX "uploads_layer_id_idx" ON "uploads"("layer_id");

-- CreateIndex
CREATE UNIQUE INDEX "releases_manifest_digest_key" ON "releases"("manifest_digest");

-- CreateIndex
CREATE INDEX "releases_status_idx" ON "releases"("status");

-- CreateIndex
CREATE UNIQUE INDEX "releases_image_id_version_key" ON "releases"("image_id", "version");

-- CreateIndex
CREATE INDEX "release_layers_layer_id_idx" ON "release_layers"("layer_id");

-- CreateIndex
CREATE UNIQUE INDEX "release_layers_release_id_layer_id_key" ON "release_layers"("release_id", "layer_id");

-- CreateIndex
CREATE INDEX "release_signatures_signing_key_id_idx" ON "release_signatures"("signing_key_id");

-- CreateIndex
CREATE UNIQUE INDEX "signing_keys_key_id_key" ON "signing_keys"("key_id");

-- CreateIndex
CREATE INDEX "signing_keys_state_idx" ON "signing_keys"("state");

-- CreateIndex
CREATE INDEX "rollouts_status_idx" ON "rollouts"("status");

-- CreateIndex
CREATE INDEX "rollouts_release_id_idx" ON "rollouts"("release_id");

-- CreateIndex
CREATE INDEX "rollouts_created_at_idx" ON "rollouts"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_waves_rollout_id_index_key" ON "rollout_waves"("rollout_id", "index");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_waves_id_rollout_id_key" ON "rollout_waves"("id", "rollout_id");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_targets_command_id_key" ON "rollout_targets"("command_id");

-- CreateIndex
CREATE INDEX "rollout_targets_rollout_id_wave_id_state_idx" ON "rollout_targets"("rollout_id", "wave_id", "state");

-- CreateIndex
CREATE INDEX "rollout_targets_wave_id_state_idx" ON "rollout_targets"("wave_id", "state");

-- CreateIndex
CREATE INDEX "rollout_targets_host_id_idx" ON "rollout_targets"("host_id");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_targets_rollout_id_host_id_key" ON "rollout_targets"("rollout_id", "host_id");

-- CreateIndex
CREATE UNIQUE INDEX "agent_commands_idempotency_key_key" ON "agent_commands"("idempotency_key");

-- CreateIndex
CREATE INDEX "agent_commands_agent_id_status_created_at_idx" ON "agent_commands"("agent_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "agent_commands_host_id_created_at_idx" ON "agent_commands"("host_id", "created_at");

-- CreateIndex
CREATE INDEX "agent_commands_status_expires_at_idx" ON "agent_commands"("status", "expires_at");

-- CreateIndex
CREATE INDEX "boot_events_occurred_at_idx" ON "boot_events"("occurred_at");

-- CreateIndex
CREATE INDEX "boot_events_host_id_occurred_at_idx" ON "boot_events"("host_id", "occurred_at");

-- CreateIndex
CREATE INDEX "boot_events_mac_occurred_at_idx" ON "boot_events"("mac", "occurred_at");

-- CreateIndex
CREATE INDEX "boot_events_subnet_id_occurred_at_idx" ON "boot_events"("subnet_id", "occurred_at");

-- CreateIndex
CREATE INDEX "boot_events_kind_occurred_at_idx" ON "boot_events"("kind", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "boot_events_agent_id_agent_seq_key" ON "boot_events"("agent_id", "agent_seq");

-- CreateIndex
CREATE INDEX "dhcp_leases_host_id_idx" ON "dhcp_leases"("host_id");

-- CreateIndex
CREATE INDEX "dhcp_leases_agent_id_idx" ON "dhcp_leases"("agent_id");

-- CreateIndex
CREATE UNIQUE INDEX "dhcp_leases_subnet_id_ipv4_key" ON "dhcp_leases"("subnet_id", "ipv4");

-- CreateIndex
CREATE UNIQUE INDEX "dhcp_leases_subnet_id_mac_key" ON "dhcp_leases"("subnet_id", "mac");

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actor_user_id_fkey" FOREIGN KEY ("actor_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actor_token_id_fkey" FOREIGN KEY ("actor_token_id") REFERENCES "api_tokens"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actor_agent_id_fkey" FOREIGN KEY ("actor_agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_subnet_id_site_id_fkey" FOREIGN KEY ("subnet_id", "site_id") REFERENCES "subnets"("id", "site_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_boot_profile_id_fkey" FOREIGN KEY ("boot_profile_id") REFERENCES "boot_profiles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_desired_release_id_fkey" FOREIGN KEY ("desired_release_id") REFERENCES "releases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_current_release_id_fkey" FOREIGN KEY ("current_release_id") REFERENCES "releases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "boot_profile_entries" ADD CONSTRAINT "boot_profile_entries_profile_id_fkey" FOREIGN KEY ("profile_id") REFERENCES "boot_profiles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "boot_profile_entries" ADD CONSTRAINT "boot_profile_entries_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "layers" ADD CONSTRAINT "layers_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_layer_id_fkey" FOREIGN KEY ("layer_id") REFERENCES "layers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_layers" ADD CONSTRAINT "release_layers_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_layers" ADD CONSTRAINT "release_layers_layer_id_fkey" FOREIGN KEY ("layer_id") REFERENCES "layers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_signatures" ADD CONSTRAINT "release_signatures_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_signatures" ADD CONSTRAINT "release_signatures_signing_key_id_fkey" FOREIGN KEY ("signing_key_id") REFERENCES "signing_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_waves" ADD CONSTRAINT "rollout_waves_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_targets" ADD CONSTRAINT "rollout_targets_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_targets" ADD CONSTRAINT "rollout_targets_wave_id_rollout_id_fkey" FOREIGN KEY ("wave_id", "rollout_id") REFERENCES "rollout_waves"("id", "rollout_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_targets" ADD CONSTRAINT "rollout_targets_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_targets" ADD CONSTRAINT "rollout_targets_command_id_fkey" FOREIGN KEY ("command_id") REFERENCES "agent_commands"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_commands" ADD CONSTRAINT "agent_commands_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_commands" ADD CONSTRAINT "agent_commands_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "boot_events" ADD CONSTRAINT "boot_events_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "boot_events" ADD CONSTRAINT "boot_events_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "boot_events" ADD CONSTRAINT "boot_events_subnet_id_fkey" FOREIGN KEY ("subnet_id") REFERENCES "subnets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "boot_events" ADD CONSTRAINT "boot_events_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dhcp_leases" ADD CONSTRAINT "dhcp_leases_subnet_id_fkey" FOREIGN KEY ("subnet_id") REFERENCES "subnets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dhcp_leases" ADD CONSTRAINT "dhcp_leases_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dhcp_leases" ADD CONSTRAINT "dhcp_leases_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "settings" ADD CONSTRAINT "settings_updated_by_id_fkey" FOREIGN KEY ("updated_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Hand-written: constraints the Prisma schema cannot express (the schema engine ignores CHECK
-- constraints when diffing, so they cause no drift).
-- MAC addresses are stored normalized: lower-case hex pairs joined by ':' (6 bytes for Ethernet, up to
-- 20 for InfiniBand).
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_mac_normalized" CHECK ("mac" ~ '^[0-9a-f]{2}(:[0-9a-f]{2}){5,19}$');
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_ipv4_is_v4" CHECK (family("ipv4") = 4);
-- A subnet is an IPv4 network with its host bits zero (10.0.0.0/24, not 10.0.0.5/24).
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_cidr_is_v4_network" CHECK (family("cidr") = 4 AND "cidr" = network("cidr")::inet);
