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

        // The printed sample labels and the result slip.
        LabelsTitle { vi: "Nhãn mẫu xét nghiệm", en: "Sample labels" },
        LabelQr { vi: "Mã QR của mẫu", en: "The sample's QR code" },
        BirthYear { vi: "Năm sinh", en: "Birth year" },
        SampleCode { vi: "Mã mẫu", en: "Sample" },
        TestKind { vi: "Loại xét nghiệm", en: "Test" },
        SlipTitle { vi: "PHIẾU TRẢ KẾT QUẢ XÉT NGHIỆM SARS-CoV-2", en: "SARS-CoV-2 TEST RESULT SLIP" },
        SlipDocTitle { vi: "Phiếu kết quả xét nghiệm", en: "Test result slip" },
        WhatNext { vi: "Việc cần làm", en: "What to do next" },
        NextPositive {
            vi: "Bạn đã nhiễm SARS-CoV-2. Hãy ở yên tại nhà, đeo khẩu trang, không tiếp xúc với người khác và chờ trạm y tế liên hệ. Nếu khó thở, đau ngực, lơ mơ hoặc SpO2 dưới 94%, gọi ngay 115.",
            en: "You have SARS-CoV-2. Stay at home, wear a mask, keep away from others and wait for the health station to contact you. If you have difficulty breathing, chest pain, confusion or SpO2 below 94%, call 115 at once.",
        },
        NextNegative {
            vi: "Không phát hiện SARS-CoV-2 trong mẫu này. Tiếp tục thực hiện 5K; nếu có triệu chứng, báo ngay trạm y tế.",
            en: "No SARS-CoV-2 was found in this sample. Keep following the 5K advice; if you have symptoms, tell the health station at once.",
        },
        NextInvalid {
            vi: "Mẫu này không cho kết quả. Trạm y tế sẽ hẹn lấy mẫu lại; trong lúc chờ, hạn chế tiếp xúc với người khác.",
            en: "This sample gave no result. The health station will arrange a new sample; until then, limit contact with others.",
        },
        NextAwaiting {
            vi: "Chưa có kết quả. Trạm y tế sẽ báo khi có kết quả.",
            en: "No result yet. The health station will tell you when it comes.",
        },
    }
}
