//! `aegis org`, `aegis key`, `aegis user`: organizations with their plans, API keys and
//! dashboard users.

use std::io::Read as _;

use aegis_core::access::Role;
use aegis_core::config::Config;
use aegis_core::model::OrgId;
use aegis_core::store::ApiKeyRole;
use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::json;

use super::{cli_actor, open_store};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organization and its first API key (shown once).
    Create {
        name: String,
        /// The plan whose rate limits apply [default: limits.default_plan].
        #[arg(long)]
        plan: Option<String>,
        /// Print {"organization_id", "api_key"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put an organization on a plan (its rate limits).
    Plan {
        #[arg(long)]
        org: OrgId,
        plan: String,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key (shown once). Ingest keys send traces and read their results; read
    /// keys read; admin keys also change the organization's setup (packs, PHI policy,
    /// integrations, models) and re-identify. `docs/ARCHITECTURE.md` has the whole table.
    Create {
        #[arg(long)]
        org: OrgId,
        #[arg(long, value_parser = parse_key_role, default_value = "ingest")]
        role: ApiKeyRole,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Print {"key_id", "api_key", "role"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user. The password comes from --password-stdin, else
    /// AEGIS_USER_PASSWORD, else a generated one is printed.
    Create {
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        email: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// owner, admin, reviewer or viewer; the organization's first user is its owner, later
        /// ones are admins unless this says otherwise.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
}

fn parse_key_role(s: &str) -> Result<ApiKeyRole, String> {
    ApiKeyRole::parse(s).ok_or_else(|| format!("`{s}` is not a key scope; use ingest, read or admin"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}` is not a role; use owner, admin, reviewer or viewer"))
}

pub async fn org(config: &Config, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create { name, plan, json } => {
            if let Some(plan) = &plan {
                known_plan(config, plan)?;
            }
            let store = open_store(config).await?;
            let org = store.create_organization(&name).await?;
            if plan.is_some() {
                store.set_plan(&org.id, plan.as_deref()).await?;
            }
            let key = store.create_api_key(&org.id, "default", ApiKeyRole::Admin, &cli_actor()).await?;
            if json {
                println!("{}", json!({ "organization_id": org.id, "name": org.name, "api_key": key.plaintext }));
            } else {
                println!("organization  {} ({})", org.name, org.id);
                println!("api key       {}", key.plaintext);
                println!("              shown once: store it now.");
            }
            Ok(())
        }
        OrgCommand::Plan { org, plan } => {
            known_plan(config, &plan)?;
            let store = open_store(config).await?;
            store.set_plan(&org, Some(&plan)).await?;
            let limits = config.limits.plans[&plan];
            println!(
                "organization {org} is on the {plan} plan: {} traces a minute, {} judge calls a day (0: unlimited)",
                limits.traces_per_minute, limits.judge_calls_per_day
            );
            Ok(())
        }
    }
}

pub async fn key(config: &Config, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { org, role, name, json } => {
            let store = open_store(config).await?;
            let key = store.create_api_key(&org, &name, role, &cli_actor()).await?;
            if json {
                println!("{}", json!({ "key_id": key.key.id, "api_key": key.plaintext, "role": role.as_str() }));
            } else {
                println!("{} key {} for organization {}", role.as_str(), key.plaintext, org);
                println!("shown once: store it now.");
            }
            Ok(())
        }
    }
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { org, email, password_stdin, role } => {
            let store = open_store(config).await?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("cannot read the password from stdin")?;
                (s.trim_end_matches(['\r', '\n']).to_string(), false)
            } else if let Ok(p) = std::env::var("AEGIS_USER_PASSWORD") {
                (p, false)
            } else {
                (aegis_core::auth::generate_password(), true)
            };
            let first = store.list_users(&org).await?.is_empty();
            let role = role.unwrap_or(if first { Role::Owner } else { Role::Admin });
            let user = store.create_user(&org, &email, &password, role, &cli_actor()).await?;
            println!("user {} created in organization {} as {}", user.email, user.org_id, role.as_str());
            if generated {
                println!("password {password}");
            }
            Ok(())
        }
    }
}

/// Refuses a plan the configuration does not define.
fn known_plan(config: &Config, plan: &str) -> anyhow::Result<()> {
    if !config.limits.plans.contains_key(plan) {
        let plans: Vec<&str> = config.limits.plans.keys().map(String::as_str).collect();
        bail!("no plan {plan:?}; the plans are {}", plans.join(", "));
    }
    Ok(())
}
