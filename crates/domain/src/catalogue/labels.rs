//! What the domain's codes are called: every status, kind, class, state, outcome and reason has a label here,
//! and [`Labelled`] maps each value to it with an exhaustive match, so a new variant cannot reach a page as
//! its internal code.

use super::{Lang, Message};
use crate::cases::{CaseSource, DetectedIn, FollowUpChannel, FollowUpOutcome};
use crate::declaration::{Exposure, Symptom, TravelMode};
use crate::{
    CaseClass, CaseState, Decision, Direction, HealthStatus, IdentityCheck, IdentityOutcome,
    LocationKind, Sex,
};

catalogue! {
    Label {
        StatusGreen { vi: "Xanh", en: "Green", km: "ពណ៌បៃតង" },
        StatusYellow { vi: "Vàng", en: "Yellow", km: "ពណ៌លឿង" },
        StatusOrange { vi: "Cam", en: "Orange", km: "ពណ៌ទឹកក្រូច" },
        StatusRed { vi: "Đỏ", en: "Red", km: "ពណ៌ក្រហម" },
        MeansGreen {
            vi: "Không có yếu tố dịch tễ. Được đi lại theo quy định.",
            en: "No known exposure. You may move about under the current rules.",
            km: "គ្មានហានិភ័យឆ្លងដែលដឹង។ អាចធ្វើដំណើរតាមបទបញ្ជា។",
        },
        MeansYellow {
            vi: "Có triệu chứng, có tiếp xúc gián tiếp (F2) hoặc đang chờ kết quả xét nghiệm. Theo dõi sức khỏe, hạn chế đến nơi đông người.",
            en: "Symptoms, an indirect contact (F2) or a test result awaited. Watch your health and avoid crowded places.",
            km: "មានរោគសញ្ញា ប៉ះពាល់ប្រយោល (F2) ឬកំពុងរង់ចាំលទ្ធផលតេស្ត។ តាមដានសុខភាព ជៀសវាងកន្លែងមនុស្សច្រើន។",
        },
        MeansOrange {
            vi: "Tiếp xúc gần (F1) hoặc test nhanh dương tính chờ khẳng định. Cách ly theo hướng dẫn của trạm y tế.",
            en: "A close contact (F1) or a positive rapid test awaiting confirmation. Quarantine as the health station tells you.",
            km: "អ្នកប៉ះពាល់ផ្ទាល់ (F1) ឬតេស្តរហ័សវិជ្ជមានរង់ចាំបញ្ជាក់។ ធ្វើចត្តាឡីស័កតាមការណែនាំរបស់ស្ថានីយ៍សុខាភិបាល។",
        },
        MeansRed {
            vi: "Đang mắc bệnh (F0). Cách ly, điều trị theo hướng dẫn của cơ sở y tế.",
            en: "A confirmed case (F0). Isolate and follow the health facility's treatment.",
            km: "អ្នកជំងឺបញ្ជាក់ (F0)។ ធ្វើចត្តាឡីស័ក និងព្យាបាលតាមការណែនាំរបស់មូលដ្ឋានសុខាភិបាល។",
        },
        KindCheckpoint { vi: "Chốt kiểm dịch", en: "Checkpoint" },
        KindHospital { vi: "Bệnh viện", en: "Hospital" },
        KindHealthFacility { vi: "Cơ sở y tế", en: "Health facility" },
        KindAgency { vi: "Cơ quan nhà nước", en: "State agency" },
        KindPublicService { vi: "Điểm giao dịch công", en: "Public service point" },
        KindMarket { vi: "Chợ", en: "Market" },
        KindBusiness { vi: "Cơ sở kinh doanh", en: "Business" },
        KindSchool { vi: "Trường học", en: "School" },
        KindOther { vi: "Khác", en: "Other" },
        DirectionIn { vi: "Vào", en: "In", km: "ចូល" },
        DirectionOut { vi: "Ra", en: "Out", km: "ចេញ" },
        DecisionAdmit { vi: "Được vào", en: "Admitted", km: "បានអនុញ្ញាតឱ្យចូល" },
        DecisionRefuse { vi: "Không được vào", en: "Refused", km: "មិនអនុញ្ញាតឱ្យចូល" },
        ClassSuspected { vi: "Nghi nhiễm", en: "Suspected", km: "សង្ស័យ" },
        ClassF0 { vi: "F0 (ca bệnh)", en: "F0 (case)", km: "F0 (អ្នកជំងឺ)" },
        ClassF1 { vi: "F1 (tiếp xúc gần)", en: "F1 (close contact)", km: "F1 (ប៉ះពាល់ផ្ទាល់)" },
        ClassF2 { vi: "F2 (tiếp xúc với F1)", en: "F2 (contact of an F1)", km: "F2 (ប៉ះពាល់ជាមួយ F1)" },
        StateIsolatingHome { vi: "Cách ly tại nhà", en: "Isolating at home" },
        StateIsolatingFacility { vi: "Cách ly tập trung", en: "Isolating in a facility" },
        StateHospitalised { vi: "Đang điều trị tại bệnh viện", en: "In hospital" },
        StateReleased { vi: "Đã kết thúc", en: "Released" },
        StateDied { vi: "Tử vong", en: "Died" },
        SourceTestResult { vi: "Kết quả xét nghiệm", en: "Test result" },
        SourceCdcFeed { vi: "Dữ liệu CDC", en: "CDC feed" },
        SourceManual { vi: "Nhập tay", en: "Entered by hand" },
        SourceTracing { vi: "Truy vết", en: "Tracing" },
        DetectedCommunity { vi: "Phát hiện trong cộng đồng", en: "Found in the community" },
        DetectedQuarantine { vi: "Phát hiện khi đang cách ly", en: "Found in quarantine or isolation" },
        OutcomeWell { vi: "Bình thường", en: "Well" },
        OutcomeSymptoms { vi: "Có triệu chứng", en: "Has symptoms" },
        OutcomeUnreachable { vi: "Không liên lạc được", en: "Unreachable" },
        ChannelSms { vi: "Tin nhắn", en: "SMS" },
        ChannelCall { vi: "Gọi điện", en: "Phone call" },
        ChannelVisit { vi: "Đến nhà", en: "Home visit" },
        ChannelSelfReport { vi: "Tự cập nhật sức khỏe", en: "Self-reported health update" },
        SymptomFever { vi: "Sốt", en: "Fever", km: "គ្រុនក្តៅ" },
        SymptomCough { vi: "Ho", en: "Cough", km: "ក្អក" },
        SymptomShortnessOfBreath { vi: "Khó thở", en: "Shortness of breath", km: "ពិបាកដកដង្ហើម" },
        SymptomSoreThroat { vi: "Đau họng", en: "Sore throat", km: "ឈឺបំពង់ក" },
        SymptomFatigue { vi: "Mệt mỏi", en: "Fatigue", km: "អស់កម្លាំង" },
        SymptomLossOfTasteOrSmell { vi: "Mất vị giác hoặc khứu giác", en: "Loss of taste or smell", km: "បាត់បង់រសជាតិ ឬក្លិន" },
        SymptomChestPain { vi: "Đau tức ngực", en: "Chest pain", km: "ឈឺទ្រូង" },
        SymptomConfusion { vi: "Lơ mơ, lú lẫn", en: "Confusion", km: "វង្វេងស្មារតី" },
        ExposureCaseOrSuspected {
            vi: "Tiếp xúc với người bệnh hoặc nghi nhiễm",
            en: "Contact with a case or suspected case",
            km: "បានប៉ះពាល់ជាមួយអ្នកជំងឺ ឬអ្នកសង្ស័យ",
        },
        ExposureAffectedArea { vi: "Đến từ vùng có dịch", en: "Came from an affected area", km: "មកពីតំបន់មានការរាតត្បាត" },
        ExposureSymptomatic {
            vi: "Tiếp xúc với người có triệu chứng",
            en: "Contact with someone with symptoms",
            km: "បានប៉ះពាល់ជាមួយអ្នកមានរោគសញ្ញា",
        },
        ExposureProximity {
            vi: "Ứng dụng báo đã tiếp xúc gần người bệnh (Bluetooth)",
            en: "The app reported a close contact with a case (Bluetooth)",
            km: "កម្មវិធីបានជូនដំណឹងថាបានប៉ះពាល់ជិតអ្នកជំងឺ (ប៊្លូធូស)",
        },
        ModeAir { vi: "Máy bay", en: "Air", km: "យន្តហោះ" },
        ModeTrain { vi: "Tàu hỏa", en: "Train", km: "រថភ្លើង" },
        ModeCoach { vi: "Xe khách", en: "Coach", km: "ឡានក្រុង" },
        ModeBoat { vi: "Tàu thuyền", en: "Boat", km: "ទូក" },
        ModePrivateVehicle { vi: "Xe cá nhân", en: "Private vehicle", km: "យានយន្តផ្ទាល់ខ្លួន" },
        IdentityMatched { vi: "Khớp dữ liệu dân cư", en: "Matches the registry", km: "ត្រូវនឹងបញ្ជីប្រជាជន" },
        IdentityMismatch { vi: "Chưa khớp dữ liệu dân cư", en: "Differs from the registry", km: "មិនត្រូវនឹងបញ្ជីប្រជាជន" },
        IdentityNotFound { vi: "Chưa khớp dữ liệu dân cư", en: "Not confirmed by the registry", km: "មិនត្រូវនឹងបញ្ជីប្រជាជន" },
        IdentityUnverifiable { vi: "Hộ chiếu (không đối chiếu được)", en: "Passport (cannot be checked)", km: "លិខិតឆ្លងដែន (មិនអាចផ្ទៀងផ្ទាត់)" },
        RoleAdmin { vi: "Quản trị", en: "Administrator" },
        RoleOfficer { vi: "Cán bộ xã", en: "Commune officer" },
        RoleCheckpoint { vi: "Chốt kiểm soát", en: "Checkpoint" },
        RoleHealth { vi: "Cán bộ y tế", en: "Health officer" },
        RoleVenue { vi: "Chủ cơ sở", en: "Venue owner" },
        RoleResident { vi: "Người dân", en: "Resident", km: "ប្រជាពលរដ្ឋ" },
        RoleOps { vi: "Vận hành", en: "Operations" },
        RoleVaccinator { vi: "Cán bộ tiêm chủng", en: "Vaccinator" },
        RoleLab { vi: "Phòng xét nghiệm", en: "Laboratory" },
        RoleIntegration { vi: "Kết nối hệ thống", en: "System feed" },
        FieldCitizenId { vi: "số CCCD", en: "citizen id", km: "លេខអត្តសញ្ញាណ" },
        FieldFullName { vi: "họ tên", en: "full name", km: "ឈ្មោះ" },
        FieldDateOfBirth { vi: "ngày sinh", en: "date of birth", km: "ថ្ងៃខែឆ្នាំកំណើត" },
        FieldSex { vi: "giới tính", en: "sex", km: "ភេទ" },
        SexMale { vi: "Nam", en: "Male", km: "ប្រុស" },
        SexFemale { vi: "Nữ", en: "Female", km: "ស្រី" },
    }
}

/// A domain value with a label for people.
pub trait Labelled: Copy {
    fn label(self) -> Label;

    /// The label in `lang`.
    fn name(self, lang: Lang) -> &'static str {
        self.label().text(lang)
    }
}

impl HealthStatus {
    /// What the colour means for its holder and what to do.
    pub fn meaning(self) -> Label {
        match self {
            HealthStatus::Green => Label::MeansGreen,
            HealthStatus::Yellow => Label::MeansYellow,
            HealthStatus::Orange => Label::MeansOrange,
            HealthStatus::Red => Label::MeansRed,
        }
    }
}

/// Implements [`Labelled`] for an enum, one label per variant.
macro_rules! labels {
    ($ty:ty { $($variant:ident => $label:ident),+ $(,)? }) => {
        impl Labelled for $ty {
            fn label(self) -> Label {
                match self { $(<$ty>::$variant => Label::$label),+ }
            }
        }
    };
}

labels!(HealthStatus { Green => StatusGreen, Yellow => StatusYellow, Orange => StatusOrange, Red => StatusRed });
labels!(LocationKind {
    Checkpoint => KindCheckpoint, Hospital => KindHospital, HealthFacility => KindHealthFacility,
    Agency => KindAgency, PublicService => KindPublicService, Market => KindMarket, Business => KindBusiness,
    School => KindSchool, Other => KindOther,
});
labels!(Direction { In => DirectionIn, Out => DirectionOut });
labels!(Decision { Admit => DecisionAdmit, Refuse => DecisionRefuse });
labels!(CaseClass { Suspected => ClassSuspected, F0 => ClassF0, F1 => ClassF1, F2 => ClassF2 });
labels!(CaseState {
    IsolatingHome => StateIsolatingHome, IsolatingFacility => StateIsolatingFacility,
    Hospitalised => StateHospitalised, Released => StateReleased, Died => StateDied,
});
labels!(CaseSource { TestResult => SourceTestResult, CdcFeed => SourceCdcFeed, Manual => SourceManual, Tracing => SourceTracing });
labels!(DetectedIn { Community => DetectedCommunity, Quarantine => DetectedQuarantine });
labels!(FollowUpOutcome { Well => OutcomeWell, Symptoms => OutcomeSymptoms, Unreachable => OutcomeUnreachable });
labels!(FollowUpChannel { Sms => ChannelSms, Call => ChannelCall, Visit => ChannelVisit, SelfReport => ChannelSelfReport });
labels!(Symptom {
    Fever => SymptomFever, Cough => SymptomCough, ShortnessOfBreath => SymptomShortnessOfBreath,
    SoreThroat => SymptomSoreThroat, Fatigue => SymptomFatigue, LossOfTasteOrSmell => SymptomLossOfTasteOrSmell,
    ChestPain => SymptomChestPain, Confusion => SymptomConfusion,
});
labels!(Exposure {
    CaseOrSuspected => ExposureCaseOrSuspected, AffectedArea => ExposureAffectedArea, Symptomatic => ExposureSymptomatic,
    Proximity => ExposureProximity,
});
labels!(TravelMode { Air => ModeAir, Train => ModeTrain, Coach => ModeCoach, Boat => ModeBoat, PrivateVehicle => ModePrivateVehicle });
labels!(Sex { Male => SexMale, Female => SexFemale });

labels!(IdentityOutcome {
    Matched => IdentityMatched, Mismatch => IdentityMismatch, NotFound => IdentityNotFound,
    Unverifiable => IdentityUnverifiable,
});

impl Labelled for &IdentityCheck {
    fn label(self) -> Label {
        self.outcome().label()
    }
}
