/**
 * Manifests written by `vaultsmith init --preset NAME`. `senex` transcribes the operations guide
 * (seed/000_7011417b9215493e.txt): every key of its vault example, every variable of its environment
 * table, the Quadlet `Secret=` lines and its rotation procedures.
 */

export const PRESET_NAMES = ['minimal', 'senex'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const MINIMAL = `# vaultsmith manifest — see 'vaultsmith check --help'
# yaml-language-server: $schema=./node_modules/vaultsmith/schema/vaultsmith.schema.json
version: 1
project: {project}

environments:
  production:
    vault: inventory/production/group_vars/vault.yml
    vault_id: production@~/.vault_pass_production
    production: true
  staging:
    vault: inventory/staging/group_vars/vault.yml
    vault_id: staging@~/.vault_pass_staging

secrets:
  vault_secret_key:
    description: Django SECRET_KEY
    generate: django-secret-key
    format: django-secret-key
    required: true

variables:
  SECRET_KEY:
    description: Django secret key
    services: [app]
    secret: vault_secret_key

services:
  app:
    restart: systemctl --user restart app.service
`;

/*
 * Choices made for the senex preset:
 * - DB and Redis passwords use token-urlsafe (A-Z a-z 0-9 - _). The Redis URLs still insert the
 *   password with `|url`: a generated one is unchanged by it, and a password a person sets with
 *   `@ / # %` keeps the URLs valid (redis-py and kombu percent-decode the password).
 * - Values only a person can supply are YOUR-... placeholders that 'check' reports until set.
 * - Sentry is optional and has no placeholder: SENTRY_DSN is rendered only once it is set.
 */
const SENEX = `# vaultsmith manifest for Senex Trader — the contract between the vaults and the services.
# Derived from the operations guide "Secrets Management". Check it with 'vaultsmith check'.
# yaml-language-server: $schema=./node_modules/vaultsmith/schema/vaultsmith.schema.json
version: 1
project: {project}

environments:
  production:
    vault: inventory/production/group_vars/vault.yml
    vault_id: production@~/.vault_pass_production
    production: true
  staging:
    vault: inventory/staging/group_vars/vault.yml
    vault_id: staging@~/.vault_pass_staging

# Non-secret values used by variables and templates.
settings:
  domain:
    production: your-domain.com
    staging: staging.your-domain.com
  redis_host: redis
  redis_port: 6379

# The keys inside each environment's vault (inventory/<env>/group_vars/vault.yml).
secrets:
  # Django Core
  vault_secret_key:
    group: Django Core
    description: Django SECRET_KEY
    generate: django-secret-key
    format: django-secret-key
    min_strength: 256
    required: true
    rotation: { strategy: django-secret-key, period: 90d, grace: 7d, fallbacks_key: vault_secret_key_fallbacks }
  vault_secret_key_fallbacks:
    group: Django Core
    description: Previous SECRET_KEYs, comma-separated, kept during a rotation's grace period
    required: false
  vault_field_encryption_key:
    group: Django Core
    description: Fernet key for encrypted model fields
    generate: fernet
    format: fernet
    required: true
    rotation: { strategy: fernet, period: 365d, grace: 30d }

  # Database
  vault_db_name:
    group: Database
    default: senextrader
    required: true
  vault_db_user:
    group: Database
    default: senex_user
    required: true
  vault_db_password:
    group: Database
    description: PostgreSQL password of vault_db_user
    generate: { kind: token-urlsafe, bytes: 24 }
    min_strength: 128
    required: true
    rotation: { strategy: postgres, period: 90d, grace: 1d }
  vault_db_host:
    group: Database
    default: postgres
    format: host
    required: true
  vault_db_port:
    group: Database
    default: 5432
    format: port
    required: true

  # Redis
  vault_redis_password:
    group: Redis
    description: Redis password (also inside the three Redis URLs)
    generate: { kind: token-urlsafe, bytes: 32 }
    min_strength: 128
    required: true
    rotation: { strategy: redis, period: 90d, grace: 1d }
  vault_redis_url:
    group: Redis
    template: "redis://:{vault_redis_password|url}@{redis_host}:{redis_port}"
    format: url
    required: true

  # Celery
  vault_celery_broker_url:
    group: Celery
    template: "redis://:{vault_redis_password|url}@{redis_host}:{redis_port}/2"
    format: url
    required: true
  vault_celery_result_backend:
    group: Celery
    template: "redis://:{vault_redis_password|url}@{redis_host}:{redis_port}/3"
    format: url
    required: true

  # TastyTrade API
  vault_tastytrade_client_id:
    group: TastyTrade API
    description: OAuth client id from the TastyTrade developer portal
    placeholder: YOUR-CLIENT-ID
    required: true
  vault_tastytrade_client_secret:
    group: TastyTrade API
    description: OAuth client secret from the TastyTrade developer portal
    placeholder: YOUR-CLIENT-SECRET
    required: true
  vault_tastytrade_base_url:
    group: TastyTrade API
    default: https://api.tastyworks.com
    format: url
    required: true

  # Email (optional)
  vault_email_host:
    group: Email (optional)
    default: smtp.gmail.com
    format: host
    required: false
  vault_email_port:
    group: Email (optional)
    default: 587
    format: port
    required: false
  vault_email_host_user:
    group: Email (optional)
    default:
      production: noreply@your-domain.com
      staging: noreply@staging.your-domain.com
    format: email
    required: false
  vault_email_host_password:
    group: Email (optional)
    description: SMTP (app-specific) password
    placeholder: YOUR-APP-SPECIFIC-PASSWORD
    required: false
  vault_default_from_email:
    group: Email (optional)
    default:
      production: noreply@your-domain.com
      staging: noreply@staging.your-domain.com
    format: email
    required: false

  # Monitoring (optional)
  vault_sentry_dsn:
    group: Monitoring (optional)
    description: Sentry DSN (https://<key>@<org>.ingest.sentry.io/<project>)
    format: url
    required: false

  # Backup Storage (S3-compatible)
  vault_backup_access_key:
    group: Backup Storage (S3-compatible)
    description: S3 access key id
    placeholder: YOUR-S3-ACCESS-KEY
    required: true
  vault_backup_secret_key:
    group: Backup Storage (S3-compatible)
    description: S3 secret access key
    placeholder: YOUR-S3-SECRET-KEY
    required: true
  vault_backup_bucket:
    group: Backup Storage (S3-compatible)
    default:
      production: senex-backups-production
      staging: senex-backups-staging
    required: true
  vault_backup_endpoint:
    group: Backup Storage (S3-compatible)
    default: https://s3.us-east-1.amazonaws.com
    format: url
    required: true

# The environment-variable contract: what each service receives.
variables:
  # Core Django Settings
  DJANGO_SETTINGS_MODULE:
    description: Settings module
    services: [django, celery-worker, celery-beat]
    value:
      production: senextrader.settings.production
      staging: senextrader.settings.staging
  SECRET_KEY:
    description: Django secret key
    services: [django, celery-worker, celery-beat]
    secret: vault_secret_key
    podman: { secret: django_secret_key, type: env, target: SECRET_KEY }
  SECRET_KEY_FALLBACKS:
    description: Previous Django secret keys accepted during a rotation
    services: [django, celery-worker, celery-beat]
    secret: vault_secret_key_fallbacks
    optional: true
  FIELD_ENCRYPTION_KEY:
    description: Fernet encryption key
    services: [django, celery-worker, celery-beat]
    secret: vault_field_encryption_key
    podman: { secret: field_encryption_key, type: env, target: FIELD_ENCRYPTION_KEY }
  ALLOWED_HOSTS:
    description: Comma-separated domains
    services: [django]
    template: "{domain},api.{domain}"
  DEBUG:
    description: Debug mode (never True in prod)
    services: [django, celery-worker, celery-beat]
    value: "False"

  # Database
  DB_NAME:
    description: Database name
    services: [django, celery-worker, celery-beat]
    secret: vault_db_name
  DB_USER:
    description: Database user
    services: [django, celery-worker, celery-beat]
    secret: vault_db_user
  DB_PASSWORD:
    description: Database password
    services: [django, celery-worker, celery-beat]
    secret: vault_db_password
    podman: { secret: db_password, type: env, target: DB_PASSWORD }
  DB_HOST:
    description: Database host (container name)
    services: [django, celery-worker, celery-beat]
    secret: vault_db_host
  DB_PORT:
    description: Database port
    services: [django, celery-worker, celery-beat]
    secret: vault_db_port

  # Redis
  REDIS_PASSWORD:
    description: Redis password (the Quadlet Secret= target)
    services: [django, celery-worker, celery-beat]
    secret: vault_redis_password
    podman: { secret: redis_password, type: env, target: REDIS_PASSWORD }
  REDIS_URL:
    description: Redis connection string
    services: [django, celery-worker, celery-beat]
    template: "redis://:{vault_redis_password|url}@{redis_host}:{redis_port}/0"
    podman: { secret: redis_url, type: env, target: REDIS_URL }

  # Celery
  CELERY_BROKER_URL:
    description: Celery broker
    services: [django, celery-worker, celery-beat]
    secret: vault_celery_broker_url
    podman: { secret: celery_broker_url, type: env, target: CELERY_BROKER_URL }
  CELERY_RESULT_BACKEND:
    description: Result backend
    services: [django, celery-worker, celery-beat]
    secret: vault_celery_result_backend
    podman: { secret: celery_result_backend, type: env, target: CELERY_RESULT_BACKEND }

  # TastyTrade API
  TASTYTRADE_CLIENT_ID:
    description: OAuth client ID
    services: [django, celery-worker]
    secret: vault_tastytrade_client_id
  TASTYTRADE_CLIENT_SECRET:
    description: OAuth secret
    services: [django, celery-worker]
    secret: vault_tastytrade_client_secret
    podman: { secret: tastytrade_client_secret, type: env, target: TASTYTRADE_CLIENT_SECRET }
  TASTYTRADE_BASE_URL:
    description: API endpoint
    services: [django, celery-worker]
    secret: vault_tastytrade_base_url

  # WebSocket
  WS_ALLOWED_ORIGINS:
    description: Allowed WS origins
    services: [django]
    template: "{domain},api.{domain}"

  # Email (optional)
  EMAIL_HOST:
    description: SMTP server
    services: [django, celery-worker]
    secret: vault_email_host
    optional: true
  EMAIL_PORT:
    description: SMTP port
    services: [django, celery-worker]
    secret: vault_email_port
    optional: true
  EMAIL_HOST_USER:
    description: SMTP username
    services: [django, celery-worker]
    secret: vault_email_host_user
    optional: true
  EMAIL_HOST_PASSWORD:
    description: SMTP password
    services: [django, celery-worker]
    secret: vault_email_host_password
    optional: true
    podman: { secret: email_host_password, type: env, target: EMAIL_HOST_PASSWORD }
  EMAIL_USE_TLS:
    description: Use TLS
    services: [django, celery-worker]
    value: "True"
    optional: true
  DEFAULT_FROM_EMAIL:
    description: Default sender
    services: [django, celery-worker]
    secret: vault_default_from_email
    optional: true

  # Monitoring (optional)
  SENTRY_DSN:
    description: Sentry error tracking
    services: [django, celery-worker, celery-beat]
    secret: vault_sentry_dsn
    optional: true

  # Backup Storage (S3-compatible)
  BACKUP_ACCESS_KEY:
    description: S3 access key for backups
    services: [backup]
    secret: vault_backup_access_key
  BACKUP_SECRET_KEY:
    description: S3 secret key for backups
    services: [backup]
    secret: vault_backup_secret_key
  BACKUP_BUCKET:
    description: S3 bucket for backups
    services: [backup]
    secret: vault_backup_bucket
  BACKUP_ENDPOINT:
    description: S3 endpoint
    services: [backup]
    secret: vault_backup_endpoint

# What restarting each consumer means (rootless Podman + Quadlet units).
services:
  django:
    description: Django web application
    unit: django.container
    restart: systemctl --user restart django.service
    health: systemctl --user is-active django.service
  celery-worker:
    description: Celery worker
    unit: celery-worker.container
    restart: systemctl --user restart celery-worker.service
    health: systemctl --user is-active celery-worker.service
  celery-beat:
    description: Celery beat scheduler
    unit: celery-beat.container
    restart: systemctl --user restart celery-beat.service
    health: systemctl --user is-active celery-beat.service
  backup:
    description: Scheduled backups to S3-compatible storage
    unit: backup.container
`;

export function presetManifest(name: PresetName, project: string): string {
  const text = name === 'senex' ? SENEX : MINIMAL;
  // The project name is a plain word (validated by the caller); quote it anyway for YAML safety.
  return text.replace('{project}', JSON.stringify(project));
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}
