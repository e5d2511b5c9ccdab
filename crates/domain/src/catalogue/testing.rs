//! Texts of samples and results: the test types, reasons, courses and results people read on their page, on a
//! result slip and in SMS (filled into [`super::Sms`] texts).

catalogue! {
    Testing {
        Samples { vi: "Mẫu xét nghiệm", en: "Samples" },
        NoSamples { vi: "Chưa có mẫu xét nghiệm nào.", en: "No sample yet." },
        Pcr { vi: "RT-PCR", en: "PCR" },
        RapidAntigen { vi: "test nhanh kháng nguyên", en: "rapid antigen test" },
        Positive { vi: "DƯƠNG TÍNH", en: "POSITIVE" },
        Negative { vi: "ÂM TÍNH", en: "NEGATIVE" },
        Invalid { vi: "KHÔNG XÁC ĐỊNH (cần xét nghiệm lại)", en: "INVALID (to be tested again)" },
        ReasonF1 { vi: "F1 trong thời gian cách ly", en: "F1 in quarantine" },
        ReasonSuspected { vi: "nghi nhiễm", en: "suspected" },
        ReasonScreening { vi: "sàng lọc", en: "screening" },
        ReasonTravel { vi: "đi lại", en: "travel" },
        ReasonResample { vi: "lấy mẫu lại", en: "sampled again" },
        StatusOrdered { vi: "đã chỉ định", en: "ordered" },
        StatusCollected { vi: "đã lấy mẫu", en: "collected" },
        StatusPooled { vi: "đã gộp mẫu", en: "pooled" },
        StatusReceived { vi: "phòng xét nghiệm đã nhận", en: "received at the laboratory" },
        StatusTested { vi: "đã có kết quả", en: "tested" },
        Result { vi: "Kết quả", en: "Result" },
        Lab { vi: "Phòng xét nghiệm", en: "Laboratory" },
        TestedAt { vi: "Thời điểm xét nghiệm", en: "Tested at" },
        CollectedAt { vi: "Thời điểm lấy mẫu", en: "Collected at" },
        NotCollectedYet { vi: "chưa lấy mẫu", en: "not collected yet" },
        DueOn { vi: "Ngày lấy mẫu", en: "Due on" },
        AwaitingResult { vi: "đang chờ kết quả", en: "awaiting the result" },
    }
}
