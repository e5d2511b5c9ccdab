//! Texts of the vaccination pages: the staff page that finds a person and records a dose, and the doses
//! officers see on a person. The resident's own lines are in [`super::Resident`] (with Khmer).

catalogue! {
    Vaccination {
        VaccinationRecords { vi: "Tiêm chủng", en: "Vaccination records" },
        FindAPerson { vi: "Tìm người được tiêm", en: "Find a person" },
        CitizenIdOrName { vi: "Số CCCD hoặc họ tên (có dấu hoặc không)", en: "Citizen id or name (with or without diacritics)" },
        Find { vi: "Tìm", en: "Find" },
        NobodyFound { vi: "Không tìm thấy ai trong địa bàn của bạn.", en: "Nobody found in your jurisdiction." },
        OpenRecord { vi: "Xem và ghi mũi tiêm", en: "See and record doses" },
        Doses { vi: "Các mũi đã tiêm", en: "Doses given" },
        NoDosesRecorded { vi: "Chưa có mũi tiêm nào được ghi.", en: "No dose recorded." },
        Vaccine { vi: "Vắc xin", en: "Vaccine" },
        DoseOf { vi: "Mũi", en: "Dose" },
        DoseNOfM { vi: "Mũi {n}/{m}", en: "Dose {n} of {m}" },
        DateGiven { vi: "Ngày tiêm", en: "Date given" },
        Lot { vi: "Số lô", en: "Lot" },
        Site { vi: "Nơi tiêm", en: "Site" },
        Country { vi: "Quốc gia", en: "Country" },
        Source { vi: "Nguồn", en: "Source" },
        RecordADose { vi: "Ghi mũi tiêm", en: "Record a dose" },
        DoseNumber { vi: "Mũi thứ", en: "Dose number" },
        SeriesDoses { vi: "Số mũi của phác đồ (để trống: theo loại vắc xin)", en: "Doses in the series (empty: the vaccine's own)" },
        HealthLocation { vi: "Cơ sở y tế trong địa bàn", en: "Health location of your jurisdiction" },
        OrFacilityName { vi: "hoặc tên cơ sở tiêm (nếu không có trong danh sách)", en: "or the facility's name (when not listed)" },
        Save { vi: "Lưu mũi tiêm", en: "Save the dose" },
        State { vi: "Tình trạng tiêm chủng", en: "Vaccination state" },
        RuleAwaitingConfirmation {
            vi: "Số ngày để tính tiêm đủ liều đang chờ xác nhận từ văn bản chính thức.",
            en: "The days before counting as fully vaccinated await confirmation from the official text.",
        },
        SourceEntered { vi: "nhập tay", en: "entered" },
        SourceCsv { vi: "tệp CSV", en: "CSV file" },
        SourceFhir { vi: "FHIR", en: "FHIR" },
    }
}
