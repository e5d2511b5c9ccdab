//! Texts of the admin pages.

catalogue! {
    Admin {
        Role { vi: "Vai trò", en: "Role" },
        UnitCodeOfTheJurisdiction { vi: "Mã đơn vị phụ trách", en: "Unit code of the jurisdiction" },
        Administration { vi: "Quản trị", en: "Administration" },
        AdminSections { vi: "Mục quản trị", en: "Admin sections" },
        Accounts { vi: "Tài khoản", en: "Accounts" },
        Locations { vi: "Địa điểm", en: "Locations" },
        Devices { vi: "Thiết bị", en: "Devices" },
        SigningKeys { vi: "Khoá ký", en: "Signing keys" },
        StaffAccounts { vi: "Tài khoản cán bộ", en: "Staff accounts" },
        PasswordAtLeast10Characters { vi: "Mật khẩu (ít nhất 10 ký tự)", en: "Password (at least 10 characters)" },
        CreateAccount { vi: "Tạo tài khoản", en: "Create account" },
        Name { vi: "Tên", en: "Name" },
        Admits { vi: "Cho vào", en: "Admits" },
        ScanningDevices { vi: "Thiết bị quét", en: "Scanning devices" },
        State { vi: "Trạng thái", en: "State" },
        Revoked { vi: "đã thu hồi", en: "revoked" },
        Active { vi: "đang dùng", en: "active" },
        DeviceName { vi: "Tên thiết bị", en: "Device name" },
        BoundToLocation { vi: "Gắn với địa điểm", en: "Bound to location" },
        NotBound { vi: "Không gắn", en: "Not bound" },
        CreateDeviceToken { vi: "Tạo mã thiết bị", en: "Create device token" },
        PassSigningKeys { vi: "Khoá ký thẻ", en: "Pass signing keys" },
        Until { vi: "Đến", en: "Until" },
        RotateTheSigningKeyExistingPasses { vi: "Đổi khoá ký? Thẻ cũ vẫn hợp lệ đến khi hết hạn.", en: "Rotate the signing key? Existing passes stay valid until they expire." },
        RotateSigningKey { vi: "Đổi khoá ký", en: "Rotate signing key" },
    }
}
