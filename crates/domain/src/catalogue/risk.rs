//! Texts of the risk-level page: criteria, bands, the explanation of a computed level and the decision form.

use super::{Lang, Message};
use crate::risk::{Band, Measure};

catalogue! {
    Risk {
        Title { vi: "Cấp độ dịch theo xã", en: "Commune risk levels" },
        Week { vi: "Tuần", en: "Week" },
        Show { vi: "Xem", en: "Show" },
        WeekRange { vi: "Từ {from} đến {to}", en: "From {from} to {to}" },
        RuleSet { vi: "Căn cứ", en: "Rules" },
        NoRuleSet { vi: "Chưa có quy định đánh giá cấp độ cho tuần này.", en: "No risk rules were in force that week." },
        SourceToCheck { vi: "Nguồn để đối chiếu", en: "Source to check" },
        Unconfirmed { vi: "chưa xác nhận", en: "unconfirmed" },
        UnconfirmedNote {
            vi: "Các ngưỡng đánh dấu \"chưa xác nhận\" chưa được đối chiếu với văn bản quyết định; cấp độ tính toán chỉ là gợi ý, cấp độ chính thức là cấp độ trong quyết định của Ban chỉ đạo.",
            en: "Thresholds marked \"unconfirmed\" have not been checked against the decision's text; the computed level is a suggestion, the official level is the steering committee's decision.",
        },
        Commune { vi: "Xã, phường, thị trấn", en: "Commune" },
        District { vi: "Huyện, thị xã, thành phố", en: "District" },
        CasesPer100k { vi: "Ca/100.000 dân/tuần", en: "Cases per 100,000 per week" },
        Coverage { vi: "Tiêm chủng", en: "Vaccination" },
        Capacity { vi: "Năng lực điều trị", en: "Treatment capacity" },
        Computed { vi: "Cấp độ tính toán", en: "Computed level" },
        Official { vi: "Cấp độ chính thức", en: "Official level" },
        Level { vi: "Cấp {n}", en: "Level {n}" },
        NoData { vi: "Chưa có số liệu", en: "No data" },
        NoDecision { vi: "Chưa có quyết định", en: "No decision" },
        Why { vi: "Cách tính", en: "How it was computed" },
        Adjustments { vi: "Điều chỉnh", en: "Adjustments" },
        NoAdjustment { vi: "Không điều chỉnh", en: "No adjustment" },
        Aggregated {
            vi: "Cấp {level}: {n}/{total} xã ở cấp {level} trở lên (quy tắc: ít nhất {share}% số xã)",
            en: "Level {level}: {n} of {total} communes at level {level} or above (rule: at least {share}% of communes)",
        },
        ByDecision { vi: "theo {decision}, hiệu lực từ {from}", en: "by {decision}, in force from {from}" },
        Summary { vi: "Tỉnh và các huyện", en: "Province and districts" },
        RecordDecision { vi: "Ghi nhận quyết định của Ban chỉ đạo", en: "Record the steering committee's decision" },
        DecisionNumber { vi: "Số quyết định", en: "Decision number" },
        DecisionDate { vi: "Ngày ký", en: "Date signed" },
        IssuedBy { vi: "Cơ quan ban hành", en: "Issued by" },
        EffectiveFrom { vi: "Hiệu lực từ ngày", en: "In force from" },
        LevelsPrefilled {
            vi: "Cấp độ của từng xã đã điền sẵn theo cấp độ tính toán; sửa theo quyết định đã ký.",
            en: "Each commune's level is prefilled with the computed level; correct it to match the signed decision.",
        },
        LevelOf { vi: "Cấp độ của {name}", en: "Level of {name}" },
        Save { vi: "Lưu quyết định", en: "Save the decision" },
        Checklist { vi: "Bảng kiểm năng lực điều trị", en: "Treatment-capacity checklist" },
        SaveChecklist { vi: "Lưu bảng kiểm", en: "Save the checklist" },
        ChecklistFor { vi: "Bảng kiểm của tuần {week}", en: "Checklist for week {week}" },
        Met { vi: "Đạt", en: "Met" },
        History { vi: "Các quyết định", en: "Decisions" },
        NoDecisions { vi: "Chưa có quyết định nào.", en: "No decisions yet." },
        SignedFile { vi: "Bản ký (PDF)", en: "Signed copy (PDF)" },
        NoFile { vi: "Chưa có bản ký", en: "No signed copy" },
        AttachFile { vi: "Tải lên bản ký (PDF, tối đa 10 MB)", en: "Upload the signed copy (PDF, up to 10 MB)" },
        Upload { vi: "Tải lên", en: "Upload" },
        Units { vi: "{n} đơn vị", en: "{n} units" },
        Saved { vi: "Đã lưu.", en: "Saved." },
        OnlyProvince {
            vi: "Chỉ cán bộ y tế hoặc quản trị cấp tỉnh ghi nhận quyết định.",
            en: "Only province-level health staff or administrators record decisions.",
        },
        MeasureCommunityCases { vi: "Ca mắc mới trong cộng đồng/100.000 dân/tuần", en: "New community cases per 100,000 per week" },
        MeasureOxygen { vi: "Ca thở oxy, thở máy/100.000 dân", en: "Patients on oxygen or ventilation per 100,000" },
        MeasureDeaths { vi: "Tử vong/100.000 dân/tuần", en: "Deaths per 100,000 per week" },
        MeasureFreeBeds { vi: "Giường trống/100.000 dân", en: "Free beds per 100,000" },
        MeasureAdultFirstDose { vi: "% người từ 18 tuổi tiêm ít nhất 1 liều", en: "% of adults with at least one dose" },
        MeasureOver50Full { vi: "% người từ 50 tuổi tiêm đủ liều", en: "% of people over 50 fully vaccinated" },
        MeasurePopulationFull { vi: "% dân số tiêm đủ liều", en: "% of the population fully vaccinated" },
        MeasureVulnerableFull { vi: "% nhóm nguy cơ tiêm đủ liều", en: "% of the vulnerable fully vaccinated" },
        MeasureCapacity { vi: "% mục năng lực điều trị đạt", en: "% of capacity items met" },
        BandLevel1 { vi: "mức cấp 1", en: "level 1 band" },
        BandLevel2 { vi: "mức cấp 2", en: "level 2 band" },
        BandLevel3 { vi: "mức cấp 3", en: "level 3 band" },
        BandLevel4 { vi: "mức cấp 4", en: "level 4 band" },
        BandBelowTarget { vi: "chưa đạt", en: "below target" },
        BandTargetMet { vi: "đạt", en: "target met" },
        BandLow { vi: "thấp", en: "low" },
        BandHigh { vi: "cao", en: "high" },
        BandNoData { vi: "chưa có số liệu", en: "no data" },
    }
}

impl Measure {
    pub fn name(self, l: Lang) -> &'static str {
        let m = match self {
            Measure::CommunityCasesPer100k => Risk::MeasureCommunityCases,
            Measure::OxygenPer100k => Risk::MeasureOxygen,
            Measure::DeathsPer100k => Risk::MeasureDeaths,
            Measure::FreeBedsPer100k => Risk::MeasureFreeBeds,
            Measure::AdultFirstDosePct => Risk::MeasureAdultFirstDose,
            Measure::Over50FullPct => Risk::MeasureOver50Full,
            Measure::PopulationFullPct => Risk::MeasurePopulationFull,
            Measure::VulnerableFullPct => Risk::MeasureVulnerableFull,
            Measure::CapacityMetPct => Risk::MeasureCapacity,
        };
        m.text(l)
    }
}

impl Band {
    pub fn name(self, l: Lang) -> &'static str {
        let m = match self {
            Band::Level1 => Risk::BandLevel1,
            Band::Level2 => Risk::BandLevel2,
            Band::Level3 => Risk::BandLevel3,
            Band::Level4 => Risk::BandLevel4,
            Band::BelowTarget => Risk::BandBelowTarget,
            Band::TargetMet => Risk::BandTargetMet,
            Band::Low => Risk::BandLow,
            Band::High => Risk::BandHigh,
            Band::NoData => Risk::BandNoData,
        };
        m.text(l)
    }
}
