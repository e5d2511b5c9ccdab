//! Texts of admission by vaccination: a place's requirement as staff read and pick it. The vaccination state
//! itself (`Đã tiêm 2 mũi · mũi cuối 12/09/2021`) and the refusals are script texts ([`super::Script`]), which
//! the scanner shows offline too.

catalogue! {
    Admission {
        Vaccination { vi: "Tiêm chủng", en: "Vaccination", km: "ការចាក់វ៉ាក់សាំង" },
        VaccinationRequirement { vi: "Yêu cầu tiêm chủng", en: "Vaccination required" },
        NoRequirement { vi: "Không yêu cầu", en: "None required" },
        KindDefault { vi: "Theo loại địa điểm (mặc định)", en: "As for the kind of place (default)" },
        AtLeastDoses { vi: "Ít nhất {doses} mũi", en: "At least {doses} doses" },
        AtLeastDosesDaysSinceLast {
            vi: "Ít nhất {doses} mũi, mũi cuối cách ít nhất {days} ngày",
            en: "At least {doses} doses, the last at least {days} days before",
        },
    }
}
