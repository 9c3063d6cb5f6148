//! The notice texts a kiosk shows for each method, in each [`Language`].
//!
//! Apart from the flow because they are legal wording (signage is a requirement): they
//! are reviewed and translated on their own, and a change to one must not touch the logic.

use super::Method;

/// Language of a notice text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

/// The notice a kiosk shows for a method: what is collected, why, for how long, and that
/// other methods exist. Face recognition requires visible signage and separate consent.
pub const fn notice(m: Method, lang: Language) -> &'static str {
    match (m, lang) {
        (Method::Face { .. }, Language::En) => {
            "Face check (optional). With your separate consent, the camera takes a short video of your \
             face to confirm it is you and that you are present. It is processed only on this device, \
             compared once, and deleted immediately; no photo or face data is stored or sent. Under 14: \
             a parent or guardian must consent. You may instead use your ID card or a one-time code."
        }
        (Method::Face { .. }, Language::Zh) => {
            "人脸核验（可选）。经您单独同意后，摄像头拍摄您面部的短视频，用于确认是您本人且在场。\
             数据仅在本设备处理、比对一次后立即删除，不存储、不上传任何照片或人脸信息。不满十四周岁者须经\
             父母或其他监护人同意。您也可以改用身份证件或一次性验证码。"
        }
        (Method::IdCard, Language::En) => {
            "ID card check. We read your ID number or passport machine-readable zone to confirm you are \
             the recipient. The number is checked on this device and against the recipient record, then \
             discarded; logs show only a masked number. You may instead use a one-time code or, with \
             consent, a face check."
        }
        (Method::IdCard, Language::Zh) => {
            "身份证件核验。读取您的证件号码或护照机读区，用于确认您是收件人。号码仅在本设备核对并与收件记录\
             比对后丢弃，日志中只保留遮盖后的号码。您也可以改用一次性验证码，或经同意后使用人脸核验。"
        }
        (Method::OneTimeCode, Language::En) => {
            "One-time code. Enter the code sent to your phone or shown in your authenticator app. It \
             confirms you hold the phone registered for this parcel; the code is valid once and for a \
             few minutes and is never stored in readable form. You may instead use your ID card or, with \
             consent, a face check."
        }
        (Method::OneTimeCode, Language::Zh) => {
            "一次性验证码。请输入发送到您手机或显示在验证器应用中的验证码，用于确认您持有登记的手机。\
             验证码仅可使用一次、几分钟内有效，且不以可读形式存储。您也可以改用身份证件，或经同意后使用人脸核验。"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::{policy, FACE};

    #[test]
    fn every_notice_names_alternatives() {
        for m in [FACE, Method::IdCard, Method::OneTimeCode] {
            let en = notice(m, Language::En);
            assert!(en.contains("instead"), "{m:?}");
            assert!(!notice(m, Language::Zh).is_empty());
        }
        assert!(notice(FACE, Language::En).contains("consent"));
        assert!(notice(FACE, Language::En).contains("guardian"));
        assert!(notice(FACE, Language::Zh).contains("监护人"));
        let p = policy();
        let shown: Vec<Method> = p.notices(Language::En).map(|(m, _)| m).collect();
        assert_eq!(shown, p.methods());
    }
}
