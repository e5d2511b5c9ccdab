//! Texts of the scanner pages.

catalogue! {
    Scanner {
        StartCamera { vi: "Bật camera", en: "Start camera" },
        StopCamera { vi: "Tắt camera", en: "Stop camera" },
        CameraView { vi: "Hình camera", en: "Camera view" },
        TypeOrPasteThePassCode { vi: "Nhập hoặc dán mã thẻ (KD1:…) hoặc chứng nhận COVID EU (HC1:…)", en: "Type or paste the pass code (KD1:…) or an EU COVID certificate (HC1:…)" },
        Check { vi: "Kiểm tra", en: "Check" },
        NoPassCheckAnIdentityDocument { vi: "Người không có thẻ: xem giấy tờ tùy thân rồi tra theo số CCCD.", en: "No pass: check an identity document, then look up the citizen id." },
        ICheckedAnIdentityDocument { vi: "Tôi đã kiểm tra giấy tờ tùy thân", en: "I checked an identity document" },
        LookUp { vi: "Tra cứu", en: "Look up" },
        Sync { vi: "Đồng bộ", en: "Sync" },
        DifferencesAfterSync { vi: "Khác biệt sau khi đồng bộ", en: "Differences after sync" },
        PassScanner { vi: "Quét thẻ thông hành", en: "Pass scanner" },
        OrUseADeviceTokenFrom { vi: "Hoặc dùng mã thiết bị do quản trị cấp:", en: "Or use a device token from your administrator:" },
        DeviceToken { vi: "Mã thiết bị", en: "Device token" },
        UseThisDevice { vi: "Dùng thiết bị này", en: "Use this device" },
    }
}
