use super::*;
use crate::testing::{given, id};
use crate::values::Minutes;
use crate::ActivationRequirement;

type W = WorkspaceAggregate;

pub(crate) fn created() -> WorkspaceEvent {
    WorkspaceEvent::WorkspaceCreated {
        workspace_id: id(1),
        name: Name::parse("Urban Glow").unwrap(),
        slug: Slug::parse("urbanglow").unwrap(),
        timezone: TimeZone::parse("Europe/London").unwrap(),
        currency: Currency::parse("GBP").unwrap(),
        owner_id: id(2),
        settings: WorkspaceSettings::default(),
    }
}

fn create() -> CreateWorkspace {
    CreateWorkspace {
        workspace_id: id(1),
        name: Name::parse("Urban Glow").unwrap(),
        slug: Slug::parse("urbanglow").unwrap(),
        timezone: TimeZone::parse("Europe/London").unwrap(),
        currency: Currency::parse("GBP").unwrap(),
        owner_id: id(2),
    }
}

#[test]
fn a_new_workspace_is_created_inactive_with_default_settings() {
    let state = given::<W>([]).when(create()).then([created()]);
    let ws = state.unwrap();
    assert!(!ws.is_active());
    assert_eq!(
        ws.settings.reminder_offsets_minutes,
        vec![Minutes::new(1440), Minutes::new(60)]
    );
    assert_eq!(ws.settings.follow_up_delay_minutes, Minutes::new(60));
    assert_eq!(ws.settings.daily_summary_hour, 8);
    assert_eq!(ws.settings.cancellation_window_hours, 24);
    assert!(!ws.settings.approval_required);
    assert_eq!(ws.settings.slot_step_minutes, Minutes::new(15));
}

#[test]
fn creating_a_workspace_twice_is_refused() {
    given::<W>([created()])
        .when(create())
        .then_error("already_exists");
}

#[test]
fn commands_on_a_missing_workspace_are_refused_as_not_found() {
    given::<W>([])
        .when(ActivateWorkspace {
            has_active_service: true,
            has_staff_with_availability: true,
        })
        .then_error("not_found");
}

#[test]
fn the_profile_can_be_changed() {
    let change = UpdateWorkspaceProfile {
        name: Name::parse("Urban Glow Spa").unwrap(),
        timezone: TimeZone::parse("Europe/Dublin").unwrap(),
        business_email: Some(Email::parse("hello@urbanglow.example").unwrap()),
        business_phone: None,
    };
    let state = given::<W>([created()]).when(change.clone()).then([
        WorkspaceEvent::WorkspaceProfileChanged {
            workspace_id: id(1),
            name: change.name.clone(),
            timezone: change.timezone,
            business_email: change.business_email.clone(),
            business_phone: None,
        },
    ]);
    assert_eq!(state.unwrap().timezone.name(), "Europe/Dublin");
}

#[test]
fn an_unchanged_profile_records_nothing() {
    let same = UpdateWorkspaceProfile {
        name: Name::parse("Urban Glow").unwrap(),
        timezone: TimeZone::parse("Europe/London").unwrap(),
        business_email: None,
        business_phone: None,
    };
    given::<W>([created()]).when(same).then([]);
}

#[test]
fn settings_can_be_changed() {
    let settings = WorkspaceSettings {
        reminder_offsets_minutes: vec![Minutes::new(120)],
        approval_required: true,
        ..WorkspaceSettings::default()
    };
    let state = given::<W>([created()])
        .when(ChangeSettings {
            settings: settings.clone(),
        })
        .then([WorkspaceEvent::WorkspaceSettingsChanged {
            workspace_id: id(1),
            settings: settings.clone(),
        }]);
    assert_eq!(state.unwrap().settings, settings);
}

#[test]
fn invalid_settings_are_refused_with_the_offending_field() {
    let cases = [
        (
            WorkspaceSettings {
                reminder_offsets_minutes: vec![Minutes::new(60), Minutes::new(60)],
                ..Default::default()
            },
            "reminder_offsets_minutes",
        ),
        (
            WorkspaceSettings {
                reminder_offsets_minutes: vec![Minutes::ZERO],
                ..Default::default()
            },
            "reminder_offsets_minutes",
        ),
        (
            WorkspaceSettings {
                daily_summary_hour: 24,
                ..Default::default()
            },
            "daily_summary_hour",
        ),
        (
            WorkspaceSettings {
                slot_step_minutes: Minutes::new(1),
                ..Default::default()
            },
            "slot_step_minutes",
        ),
        (
            WorkspaceSettings {
                booking_horizon_days: 0,
                ..Default::default()
            },
            "booking_horizon_days",
        ),
        (
            WorkspaceSettings {
                cancellation_window_hours: 10_000,
                ..Default::default()
            },
            "cancellation_window_hours",
        ),
        (
            WorkspaceSettings {
                follow_up_delay_minutes: Minutes::new(100_000),
                ..Default::default()
            },
            "follow_up_delay_minutes",
        ),
        (
            WorkspaceSettings {
                minimum_notice_minutes: Minutes::new(100_000),
                ..Default::default()
            },
            "minimum_notice_minutes",
        ),
    ];
    for (settings, field) in cases {
        let error = given::<W>([created()])
            .when(ChangeSettings { settings })
            .then_error("invalid_value");
        assert_eq!(error.field(), Some(field));
    }
}

#[test]
fn a_workspace_with_a_service_and_available_staff_is_activated() {
    let state = given::<W>([created()])
        .when(ActivateWorkspace {
            has_active_service: true,
            has_staff_with_availability: true,
        })
        .then([WorkspaceEvent::WorkspaceActivated {
            workspace_id: id(1),
        }]);
    assert!(state.unwrap().is_active());
}

#[test]
fn activation_is_refused_with_everything_that_is_missing() {
    let error = given::<W>([created()])
        .when(ActivateWorkspace {
            has_active_service: false,
            has_staff_with_availability: false,
        })
        .then_error("activation_incomplete");
    assert_eq!(
        error,
        crate::DomainError::ActivationIncomplete {
            missing: vec![
                ActivationRequirement::Service,
                ActivationRequirement::StaffWithAvailability
            ]
        }
    );
}

#[test]
fn activating_an_active_workspace_is_refused() {
    given::<W>([
        created(),
        WorkspaceEvent::WorkspaceActivated {
            workspace_id: id(1),
        },
    ])
    .when(ActivateWorkspace {
        has_active_service: true,
        has_staff_with_availability: true,
    })
    .then_error("invalid_transition");
}

#[test]
fn settings_missing_from_old_events_read_as_defaults() {
    let settings: WorkspaceSettings = serde_json::from_str(r#"{"daily_summary_hour": 9}"#).unwrap();
    assert_eq!(settings.daily_summary_hour, 9);
    assert_eq!(settings.booking_horizon_days, 60);
}

#[test]
fn changing_integrations_records_the_provider_kinds_and_never_a_key() {
    let email = EmailIntegration {
        provider: "resend".into(),
        fallback_provider: Some("smtp".into()),
        from_address: Email::parse("hello@urbanglow.example").unwrap(),
    };
    given::<W>([created()])
        .when(ChangeIntegrations {
            email: Some(email.clone()),
            sms: None,
        })
        .then([WorkspaceEvent::IntegrationsChanged {
            workspace_id: id(1),
            email: Some(email),
            sms: None,
        }]);
}

#[test]
fn dismissing_an_alert_records_which_one() {
    given::<W>([created()])
        .when(DismissAlert { alert_id: id(9) })
        .then([WorkspaceEvent::AlertDismissed {
            workspace_id: id(1),
            alert_id: id(9),
        }]);
}
