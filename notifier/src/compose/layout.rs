//! One email layout for every kind: a greeting, paragraphs, a table of details, an action
//! link and a sign-off, rendered to plain text and to (escaped) HTML from the same draft, so
//! the two parts always say the same thing.

/// An email before layout.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub details: Vec<(String, String)>,
    /// (label, url).
    pub action: Option<(String, String)>,
    pub closing: Vec<String>,
    pub sign_off: String,
}

/// Escapes text for HTML.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_paragraph(text: &str) -> String {
    format!(
        "<p style=\"margin:0 0 16px\">{}</p>\n",
        escape(text).replace('\n', "<br>")
    )
}

impl Draft {
    pub fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.greeting);
        for p in &self.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        if !self.details.is_empty() {
            let width = self
                .details
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            for (key, value) in &self.details {
                out.push_str(&format!("{key:width$}  {value}\n"));
            }
            out.push('\n');
        }
        if let Some((label, url)) = &self.action {
            out.push_str(&format!("{label}: {url}\n\n"));
        }
        for p in &self.closing {
            out.push_str(p);
            out.push_str("\n\n");
        }
        out.push_str(&self.sign_off);
        out.push('\n');
        out
    }

    pub fn html(&self) -> String {
        let mut body = html_paragraph(&self.greeting);
        for p in &self.paragraphs {
            body.push_str(&html_paragraph(p));
        }
        if !self.details.is_empty() {
            body.push_str("<table style=\"border-collapse:collapse;margin:0 0 16px\">\n");
            for (key, value) in &self.details {
                body.push_str(&format!(
                    "<tr><th style=\"text-align:left;padding:4px 16px 4px 0;color:#555\">{}</th><td style=\"padding:4px 0\">{}</td></tr>\n",
                    escape(key),
                    escape(value)
                ));
            }
            body.push_str("</table>\n");
        }
        if let Some((label, url)) = &self.action {
            body.push_str(&format!(
                "<p style=\"margin:0 0 16px\"><a href=\"{}\" style=\"background:#2f6f5e;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{}</a></p>\n",
                escape(url),
                escape(label)
            ));
        }
        for p in &self.closing {
            body.push_str(&html_paragraph(p));
        }
        body.push_str(&html_paragraph(&self.sign_off));
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#222;max-width:560px;margin:24px auto\">\n{}</body></html>\n",
            escape(&self.subject),
            body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_people_typed_and_text_keeps_it() {
        let draft = Draft {
            subject: "Hi".into(),
            greeting: "Hello <Ada> & co,".into(),
            paragraphs: vec!["a \"quote\"".into()],
            sign_off: "Bye".into(),
            ..Draft::default()
        };
        assert!(draft.html().contains("Hello &lt;Ada&gt; &amp; co,"));
        assert!(draft.text().starts_with("Hello <Ada> & co,"));
    }
}
