//! Texts of the EU Digital COVID Certificate (HC1): why a certificate is refused (one per verification reason,
//! with the next step at a checkpoint), and the printed certificate's labels (Decision 5772/QĐ-BYT).

catalogue! {
    Dcc {
        Valid { vi: "hợp lệ", en: "valid" },
        TooLong { vi: "chuỗi quá dài", en: "too long" },
        NoPrefix { vi: "không bắt đầu bằng HC1:", en: "does not start with HC1:" },
        BadBase45 { vi: "mã Base45 hỏng", en: "bad Base45" },
        BadCompression { vi: "nén zlib hỏng", en: "bad zlib compression" },
        BadCose { vi: "cấu trúc COSE hỏng", en: "bad COSE structure" },
        BadClaims { vi: "nội dung CWT hỏng", en: "bad CWT claims" },
        UnsupportedAlgorithm { vi: "thuật toán ký không được hỗ trợ", en: "unsupported algorithm" },
        UnknownKid { vi: "không có chứng thư ký tin cậy cho mã khóa này", en: "no trusted DSC for this kid" },
        BadSignature { vi: "chữ ký không hợp lệ", en: "signature does not verify" },
        NotYetValid { vi: "chưa đến thời điểm hiệu lực", en: "issued in the future" },
        Expired { vi: "đã hết hạn", en: "expired" },
        DscNotValid { vi: "chứng thư ký hết hiệu lực", en: "the DSC is not valid now" },
        UnknownSchemaVersion { vi: "phiên bản lược đồ không rõ", en: "unknown schema version" },
        SchemaViolation { vi: "nội dung sai lược đồ", en: "payload violates the schema" },
        NotOneEntry { vi: "không đúng một loại chứng nhận", en: "not exactly one certificate type" },
        WrongKeyUsage { vi: "chứng thư ký không được phép ký loại này", en: "the DSC may not sign this type" },
        NextStepInvalid {
            vi: "Không cho vào bằng chứng nhận này; đề nghị xuất trình thẻ thông hành KD1 hoặc chứng nhận khác.",
            en: "Do not admit on this certificate; ask for a KD1 pass or another certificate.",
        },
        NotAccepted {
            vi: "Địa điểm này không nhận chứng nhận tiêm chủng quốc tế thay thẻ thông hành.",
            en: "This place does not accept a vaccination certificate instead of a pass.",
        },
        NotVaccination {
            vi: "Chứng nhận này không phải chứng nhận tiêm chủng.",
            en: "This certificate is not a vaccination certificate.",
        },
        RequirementUnmet {
            vi: "Chứng nhận chưa đạt yêu cầu tiêm chủng của địa điểm; đề nghị xuất trình thẻ thông hành KD1.",
            en: "The certificate does not meet this place's vaccination requirement; ask for a KD1 pass.",
        },
        CertificateTitle { vi: "Chứng nhận tiêm chủng COVID-19", en: "COVID-19 vaccination certificate" },
        Name { vi: "Họ và tên", en: "Name" },
        DateOfBirth { vi: "Ngày sinh", en: "Date of birth" },
        Vaccine { vi: "Vắc xin", en: "Vaccine" },
        Manufacturer { vi: "Nhà sản xuất", en: "Manufacturer" },
        DateGiven { vi: "Ngày tiêm", en: "Date of vaccination" },
        DoseNOfM { vi: "Mũi {n}/{m}", en: "Dose {n} of {m}" },
        Country { vi: "Quốc gia tiêm", en: "Country of vaccination" },
        Issuer { vi: "Đơn vị cấp", en: "Certificate issuer" },
        CertificateId { vi: "Mã chứng nhận (UVCI)", en: "Certificate identifier (UVCI)" },
        ValidUntil { vi: "Mã QR có hiệu lực đến", en: "QR valid until" },
        PrintA4 { vi: "In chứng nhận (A4)", en: "Print the certificate (A4)" },
        PrintCard { vi: "In thẻ bỏ túi", en: "Print a pocket card" },
    }
}
