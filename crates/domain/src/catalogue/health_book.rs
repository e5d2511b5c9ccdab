//! Texts of the daily health updates and the electronic health book (*Sổ sức khỏe điện tử*): the form, the
//! book's sections, why a person has their colour, and the message to the health station.

catalogue! {
    HealthBook {
        HealthBookTitle { vi: "Sổ sức khỏe điện tử", en: "Electronic health book", km: "សៀវភៅសុខភាពអេឡិចត្រូនិក" },
        OpenHealthBook { vi: "Sổ sức khỏe", en: "Health book", km: "សៀវភៅសុខភាព" },
        DailyUpdate { vi: "Cập nhật sức khỏe hằng ngày", en: "Daily health update", km: "ការធ្វើបច្ចុប្បន្នភាពសុខភាពប្រចាំថ្ងៃ" },
        DailyUpdateForPerson {
            vi: "Cập nhật sức khỏe cho người không có điện thoại",
            en: "Health update for a person without a phone",
        },
        TemperatureC { vi: "Nhiệt độ (°C)", en: "Temperature (°C)", km: "សីតុណ្ហភាព (°C)" },
        Spo2Percent { vi: "SpO2 (%)", en: "SpO2 (%)", km: "SpO2 (%)" },
        SymptomsToday { vi: "Triệu chứng hôm nay", en: "Symptoms today", km: "រោគសញ្ញាថ្ងៃនេះ" },
        Note { vi: "Ghi chú", en: "Note", km: "កំណត់ចំណាំ" },
        SendUpdate { vi: "Gửi cập nhật", en: "Send update", km: "ផ្ញើ" },
        UpdateSaved { vi: "Đã ghi nhận cập nhật sức khỏe.", en: "Health update recorded.", km: "បានកត់ត្រា។" },
        UpdateUrgent {
            vi: "Có dấu hiệu cần cấp cứu: trạm y tế đã được báo. Nếu khó thở nặng, gọi 115 ngay.",
            en: "Warning signs: the health station has been told. If breathing is very hard, call 115 now.",
            km: "មានសញ្ញាគ្រោះថ្នាក់៖ មណ្ឌលសុខភាពត្រូវបានជូនដំណឹង។ ហៅ 115 ភ្លាម។",
        },
        Urgent { vi: "Khẩn cấp", en: "Urgent", km: "បន្ទាន់" },
        UrgentToday { vi: "Cần liên hệ ngay hôm nay", en: "To contact at once today" },
        CurrentColour { vi: "Màu hiện tại", en: "Current colour", km: "ពណ៌បច្ចុប្បន្ន" },
        Why { vi: "Lý do", en: "Why", km: "មូលហេតុ" },
        Since { vi: "Từ", en: "Since", km: "ចាប់ពី" },
        Until { vi: "Đến", en: "Until", km: "ដល់" },
        NoReason { vi: "Không có yếu tố nguy cơ nào được ghi nhận.", en: "No risk fact on record.", km: "គ្មាន។" },
        Declarations { vi: "Tờ khai y tế", en: "Health declarations", km: "ការប្រកាសសុខភាព" },
        Passes { vi: "Thẻ thông hành", en: "Passes", km: "បណ្ណ" },
        Visits28Days { vi: "Nơi đã đến (28 ngày)", en: "Places visited (28 days)", km: "ទីកន្លែង (28 ថ្ងៃ)" },
        Samples { vi: "Mẫu xét nghiệm và kết quả", en: "Samples and results", km: "សំណាក និងលទ្ធផល" },
        Vaccinations { vi: "Tiêm chủng", en: "Vaccinations", km: "ការចាក់វ៉ាក់សាំង" },
        Cases { vi: "Ca bệnh và cách ly", en: "Cases and quarantine", km: "ករណី និងការដាក់ឲ្យនៅដាច់ដោយឡែក" },
        FollowUps { vi: "Theo dõi hằng ngày", en: "Daily follow-ups", km: "ការតាមដានប្រចាំថ្ងៃ" },
        HealthUpdates { vi: "Cập nhật sức khỏe", en: "Health updates", km: "បច្ចុប្បន្នភាពសុខភាព" },
        NothingRecorded { vi: "Chưa có.", en: "None.", km: "គ្មាន។" },
        Print { vi: "In", en: "Print", km: "បោះពុម្ព" },
        PrintedAt { vi: "In lúc {time}", en: "Printed at {time}", km: "បោះពុម្ពនៅ {time}" },
        ReasonOpenCase { vi: "Ca bệnh đang mở: {class}", en: "Open case: {class}", km: "ករណីបើក៖ {class}" },
        ReasonContact { vi: "Được xác định là {class}", en: "Designated {class}", km: "ត្រូវបានកំណត់ជា {class}" },
        ReasonDeclaredSymptoms { vi: "Khai báo triệu chứng: {list}", en: "Declared symptoms: {list}", km: "បានប្រកាសរោគសញ្ញា៖ {list}" },
        ReasonDeclaredExposure { vi: "Khai báo yếu tố dịch tễ: {list}", en: "Declared exposure: {list}", km: "បានប្រកាស៖ {list}" },
        ReasonReportedSymptoms { vi: "Cập nhật sức khỏe có triệu chứng: {list}", en: "Health update with symptoms: {list}", km: "រោគសញ្ញា៖ {list}" },
        WarningSignsToStation {
            vi: "KHẨN: {person} ({phone}) báo dấu hiệu cần cấp cứu: {signs}. Đề nghị trạm y tế liên hệ ngay.",
            en: "URGENT: {person} ({phone}) reports warning signs: {signs}. The health station should call at once.",
        },
        LowSpo2 { vi: "SpO2 {value}%", en: "SpO2 {value}%", km: "SpO2 {value}%" },
        NoPhone { vi: "không có số điện thoại", en: "no phone" },
    }
}
