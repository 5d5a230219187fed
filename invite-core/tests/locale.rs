//! Email language: chosen by the invitation's locale, kept on resend, names escaped in
//! every language.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use invite_core::mail::{DefaultTemplates, EmailContext, EmailRenderer};
use invite_core::{CapturingMailer, InMemoryStore};

fn context(locale: Option<&str>) -> EmailContext {
    EmailContext {
        inviter_name: "Eve <img src=x onerror=alert(1)>".into(),
        invitee_name: Some("<b>Bob</b> & \"friends\"".into()),
        business_name: "Acme <script>alert(1)</script>".into(),
        app_name: "Billing & <i>Co</i>".into(),
        role_name: "<u>Member</u>".into(),
        expires_at: common::start(),
        accept_link: "https://app.example.com/accept?token=abc&x=\"y\"".into(),
        locale: locale.map(Into::into),
    }
}

#[test]
fn the_locale_picks_the_language() {
    for (locale, expected) in [
        (None, "en"),
        (Some("en-US"), "en"),
        (Some("fr"), "fr"),
        (Some("fr-CA"), "fr"),
        (Some("FR"), "fr"),
        (Some("de"), "de"),
        (Some("de-CH"), "de"),
        (Some("pt-BR"), "en"),
        (Some("zz"), "en"),
    ] {
        let email = DefaultTemplates.render(&context(locale));
        assert_eq!(email.locale, expected, "{locale:?}");
        assert!(email.html.contains(&format!("<html lang=\"{expected}\">")));
    }
    let en = DefaultTemplates.render(&context(Some("en")));
    let fr = DefaultTemplates.render(&context(Some("fr")));
    let de = DefaultTemplates.render(&context(Some("de")));
    assert!(en.subject != fr.subject && fr.subject != de.subject && en.subject != de.subject);
    assert!(en.text != fr.text && fr.text != de.text);
}

#[test]
fn each_language_writes_the_expiry_its_own_way() {
    let later = Utc.with_ymd_and_hms(2026, 11, 27, 17, 5, 59).unwrap();
    for (locale, at, date) in [
        ("en", common::start(), "2026-03-02 09:00 UTC"),
        ("fr", common::start(), "02/03/2026 à 09:00 UTC"),
        ("de", common::start(), "02.03.2026 um 09:00 UTC"),
        ("en", later, "2026-11-27 17:05 UTC"),
        ("fr", later, "27/11/2026 à 17:05 UTC"),
        ("de", later, "27.11.2026 um 17:05 UTC"),
    ] {
        let email = DefaultTemplates.render(&EmailContext {
            expires_at: at,
            ..context(Some(locale))
        });
        assert!(email.text.contains(date), "{locale}: {date}");
        assert!(email.html.contains(date), "{locale}: {date}");
    }
}

#[test]
fn names_stay_escaped_in_every_language() {
    for locale in DefaultTemplates::LANGUAGES {
        let email = DefaultTemplates.render(&context(Some(locale)));
        for raw in ["<script>", "<img", "<b>Bob", "<i>Co", "<u>Member"] {
            assert!(!email.html.contains(raw), "{locale}: {raw} unescaped");
        }
        assert!(email.html.contains("&lt;script&gt;"), "{locale}");
        assert!(
            email.html.contains("&lt;b&gt;Bob&lt;/b&gt; &amp;"),
            "{locale}"
        );
        assert!(
            email
                .html
                .contains("href=\"https://app.example.com/accept?token=abc&amp;x=&quot;y&quot;\""),
            "{locale}"
        );
        assert!(
            email.text.contains("<b>Bob</b>"),
            "{locale}: text keeps text"
        );
        assert!(
            email
                .text
                .contains("https://app.example.com/accept?token=abc&x=\"y\"")
        );
        assert!(!email.subject.contains(['\r', '\n']));
    }
}

#[test]
fn the_invitation_locale_is_used_and_kept_on_resend() {
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    let mailer = CapturingMailer::new();
    let french = w
        .service
        .send(
            &w.invite_new("Zoé", "Lefèvre", "zoe@example.com")
                .locale("fr-CA"),
        )
        .unwrap();
    let unknown = w
        .service
        .send(
            &w.invite_new("João", "Silva", "joao@example.com")
                .locale("pt-BR"),
        )
        .unwrap();
    let german = w
        .service
        .send(&w.invite_existing(&w.alice).locale("de"))
        .unwrap();
    w.service.dispatch_outbox(&mailer).unwrap();
    let locale_of = |id| {
        mailer
            .sent()
            .into_iter()
            .filter(|m| m.invitation_id == id)
            .map(|m| m.locale)
            .collect::<Vec<_>>()
    };
    assert_eq!(locale_of(french.invitation.id), ["fr"]);
    assert_eq!(locale_of(unknown.invitation.id), ["en"]);
    assert_eq!(locale_of(german.invitation.id), ["de"]);

    w.clock.advance(chrono::Duration::minutes(10));
    let resent = w
        .service
        .resend(w.business.id, french.invitation.id, w.admin.id, None)
        .unwrap();
    assert_eq!(resent.invitation.locale.as_deref(), Some("fr-CA"));
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(
        locale_of(french.invitation.id),
        ["fr", "fr"],
        "resend keeps French"
    );
    let last = mailer.sent().into_iter().last().unwrap();
    assert_eq!(last.accept_link, resent.accept_link);
    assert!(last.text.contains("Bonjour Zoé Lefèvre,"));
    let stored = w
        .service
        .get_invitation(w.business.id, french.invitation.id)
        .unwrap();
    assert_eq!(stored.locale.as_deref(), Some("fr-CA"));
}

#[test]
fn the_french_and_german_emails_are_exactly_these() {
    let fr = DefaultTemplates.render(&context(Some("fr")));
    assert_eq!(
        fr.subject,
        "Eve <img src=x onerror=alert(1)> vous invite à rejoindre Billing & <i>Co</i> sur Acme <script>alert(1)</script>"
    );
    assert_eq!(
        fr.text,
        "Bonjour <b>Bob</b> & \"friends\",\n\n\
         Eve <img src=x onerror=alert(1)> vous invite à rejoindre Billing & <i>Co</i> sur Acme <script>alert(1)</script> en tant que <u>Member</u>.\n\n\
         Accepter l’invitation\u{202F}:\nhttps://app.example.com/accept?token=abc&x=\"y\"\n\n\
         Le lien expire le 02/03/2026 à 09:00 UTC. Si vous n’attendiez pas cet e-mail, vous pouvez l’ignorer.\n"
    );
    assert_eq!(
        fr.html,
        "<!doctype html><html lang=\"fr\"><body><p>Bonjour &lt;b&gt;Bob&lt;/b&gt; &amp; \"friends\",</p>\
         <p>Eve &lt;img src=x onerror=alert(1)&gt; vous invite à rejoindre <b>Billing &amp; &lt;i&gt;Co&lt;/i&gt;</b> sur <b>Acme &lt;script&gt;alert(1)&lt;/script&gt;</b> en tant que <b>&lt;u&gt;Member&lt;/u&gt;</b>.</p>\
         <p><a href=\"https://app.example.com/accept?token=abc&amp;x=&quot;y&quot;\">Accepter l’invitation</a></p>\
         <p>Le lien expire le 02/03/2026 à 09:00 UTC. Si vous n’attendiez pas cet e-mail, vous pouvez l’ignorer.</p></body></html>"
    );

    let de = DefaultTemplates.render(&context(Some("de")));
    assert_eq!(
        de.subject,
        "Eve <img src=x onerror=alert(1)> hat Sie zu Billing & <i>Co</i> bei Acme <script>alert(1)</script> eingeladen"
    );
    assert_eq!(
        de.text,
        "Hallo <b>Bob</b> & \"friends\",\n\n\
         Eve <img src=x onerror=alert(1)> hat Sie eingeladen, Billing & <i>Co</i> bei Acme <script>alert(1)</script> als <u>Member</u> beizutreten.\n\n\
         Einladung annehmen:\nhttps://app.example.com/accept?token=abc&x=\"y\"\n\n\
         Der Link läuft am 02.03.2026 um 09:00 UTC ab. Falls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.\n"
    );
    assert_eq!(
        de.html,
        "<!doctype html><html lang=\"de\"><body><p>Hallo &lt;b&gt;Bob&lt;/b&gt; &amp; \"friends\",</p>\
         <p>Eve &lt;img src=x onerror=alert(1)&gt; hat Sie eingeladen, <b>Billing &amp; &lt;i&gt;Co&lt;/i&gt;</b> bei <b>Acme &lt;script&gt;alert(1)&lt;/script&gt;</b> als <b>&lt;u&gt;Member&lt;/u&gt;</b> beizutreten.</p>\
         <p><a href=\"https://app.example.com/accept?token=abc&amp;x=&quot;y&quot;\">Einladung annehmen</a></p>\
         <p>Der Link läuft am 02.03.2026 um 09:00 UTC ab. Falls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.</p></body></html>"
    );

    for (locale, greeting) in [("fr", "Bonjour,\n\n"), ("de", "Hallo,\n\n")] {
        let nameless = EmailContext {
            invitee_name: None,
            ..context(Some(locale))
        };
        let text = DefaultTemplates.render(&nameless).text;
        assert!(text.starts_with(greeting), "{locale}: {text}");
    }
}
