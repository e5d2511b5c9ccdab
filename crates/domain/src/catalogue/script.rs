//! Texts the pages' scripts show (`static/app.js`, `static/scan.js`), handed to them in the page's language
//! as a JSON table keyed by the snake-case key (`admit`, `reason_revoked`), with every [`Label`](super::Label).
//! Scan reasons are the verifier's codes; each says what happened and, for a refusal, what to do next.

catalogue! {
    Script {
        Admit { vi: "CHO VÀO", en: "ADMIT" },
        Refuse { vi: "KHÔNG CHO VÀO", en: "REFUSE" },
        Offline {
            vi: "Mất mạng: quét vẫn được lưu trên máy và gửi khi có mạng.",
            en: "Offline: scans are kept on this device and sent when the network returns.",
        },
        Online { vi: "Có mạng", en: "Online" },
        Pending { vi: "lượt quét chờ gửi", en: "scans waiting to send" },
        SyncedAt { vi: "danh sách cập nhật lúc {time}", en: "lists updated at {time}" },
        Conflict { vi: "Khác biệt sau khi đồng bộ", en: "Differs after sync" },
        SyncKeyReused {
            vi: "Máy chủ đã có một lượt quét khác với cùng mã; lượt này không được ghi và sẽ không gửi lại.",
            en: "The server holds a different scan under this key; this one was not recorded and will not be resent.",
        },
        SyncInvalid {
            vi: "Máy chủ không nhận lượt quét này vì dữ liệu không hợp lệ; sẽ không gửi lại.",
            en: "The server refused this scan as invalid; it will not be resent.",
        },
        SyncForbidden {
            vi: "Máy quét này không được ghi lượt quét tại địa điểm này; sẽ không gửi lại.",
            en: "This scanner may not record scans at this place; it will not be resent.",
        },
        Invalid { vi: "Mã không hợp lệ", en: "Invalid code" },
        Checking { vi: "Đang kiểm tra…", en: "Checking…" },
        NoCamera { vi: "Không mở được camera; hãy nhập mã bằng tay.", en: "Camera unavailable; enter the code by hand." },
        ValidUntil { vi: "Hiệu lực đến", en: "Valid until", km: "មានសុពលភាពរហូតដល់" },
        Born { vi: "sinh năm", en: "born" },
        NoOfflineVerify {
            vi: "Trình duyệt này không tự kiểm tra chữ ký được; cần có mạng.",
            en: "This browser cannot check signatures itself; the network is needed.",
        },
        NeedsNetwork { vi: "Tra cứu theo CCCD cần có mạng.", en: "A lookup by citizen id needs the network." },
        CannotReachServer {
            vi: "Không kết nối được máy chủ; hãy kiểm tra mạng và thử lại.",
            en: "Cannot reach the server; check the network and try again.",
            km: "មិនអាចភ្ជាប់ទៅម៉ាស៊ីនមេបានទេ។ សូមពិនិត្យបណ្តាញ ហើយព្យាយាមម្តងទៀត។",
        },
        DeclarationReceived {
            vi: "Đã nhận tờ khai số {id}.",
            en: "Declaration number {id} received.",
            km: "បានទទួលសេចក្តីប្រកាសលេខ {id}។",
        },
        DiffersFromRegistry { vi: "Khác với dữ liệu dân cư: ", en: "Differs from the registry: " },
        PassQrAlt { vi: "Mã QR thẻ thông hành", en: "Pass QR code", km: "កូដ QR ប័ណ្ណធ្វើដំណើរ" },
        DownloadQr { vi: "Tải ảnh thẻ", en: "Download the pass image", km: "ទាញយករូបភាពប័ណ្ណ" },
        PrintCard { vi: "In thẻ", en: "Print card", km: "បោះពុម្ពប័ណ្ណ" },
        NoPassYet {
            vi: "Chưa cấp thẻ: cần cán bộ xã xác minh.",
            en: "No pass yet: a commune officer must verify.",
            km: "មិនទាន់ចេញប័ណ្ណ៖ មន្ត្រីឃុំត្រូវផ្ទៀងផ្ទាត់។",
        },
        DeviceTokenOnce { vi: "Mã thiết bị (chỉ hiện một lần): ", en: "Device token (shown once): " },
        Recorded { vi: "đã ghi nhận", en: "recorded", km: "បានកត់ត្រា" },
        Refused { vi: "không được vào", en: "refused", km: "មិនអនុញ្ញាតឱ្យចូល" },
        ReasonValid { vi: "Thẻ hợp lệ.", en: "Valid pass.", km: "ប័ណ្ណត្រឹមត្រូវ។" },
        ReasonStatusGreenNotAdmitted {
            vi: "Màu xanh không được vào nơi này.",
            en: "Green is not admitted here.",
            km: "ពណ៌បៃតងមិនអនុញ្ញាតឱ្យចូលទីនេះទេ។",
        },
        ReasonStatusYellowNotAdmitted {
            vi: "Màu vàng không được vào nơi này. Mời đến lều y tế để được khám.",
            en: "Yellow is not admitted here. Send the person to the medical tent.",
            km: "ពណ៌លឿងមិនអនុញ្ញាតឱ្យចូលទីនេះទេ។ សូមទៅតង់វេជ្ជសាស្ត្រ។",
        },
        ReasonStatusOrangeNotAdmitted {
            vi: "Màu cam (F1) không được vào. Mời đến lều y tế; báo trạm y tế xã.",
            en: "Orange (F1) is not admitted. Send the person to the medical tent; tell the commune health station.",
            km: "ពណ៌ទឹកក្រូច (F1) មិនអនុញ្ញាតឱ្យចូលទេ។ សូមទៅតង់វេជ្ជសាស្ត្រ។",
        },
        ReasonStatusRedNotAdmitted {
            vi: "Màu đỏ (F0) không được vào. Giữ khoảng cách, báo ngay trạm y tế.",
            en: "Red (F0) is not admitted. Keep your distance and call the health station at once.",
            km: "ពណ៌ក្រហម (F0) មិនអនុញ្ញាតឱ្យចូលទេ។ រក្សាគម្លាត ហើយជូនដំណឹងស្ថានីយ៍សុខាភិបាលភ្លាម។",
        },
        ReasonRevoked {
            vi: "Thẻ đã bị thu hồi. Người này cần khai báo lại hoặc liên hệ trạm y tế.",
            en: "The pass was revoked. The person must declare again or contact the health station.",
            km: "ប័ណ្ណត្រូវបានដកហូត។ សូមប្រកាសម្តងទៀត ឬទាក់ទងស្ថានីយ៍សុខាភិបាល។",
        },
        ReasonExpired {
            vi: "Thẻ đã hết hạn. Mời khai báo lại (cán bộ xã có thể khai giúp).",
            en: "The pass has expired. The person must declare again (a commune officer can help).",
            km: "ប័ណ្ណផុតកំណត់។ សូមប្រកាសម្តងទៀត (មន្ត្រីឃុំអាចជួយបាន)។",
        },
        ReasonSuperseded {
            vi: "Đã có thẻ mới hơn; hãy dùng thẻ mới nhất.",
            en: "A newer pass exists; use the latest one.",
            km: "មានប័ណ្ណថ្មីជាងនេះ។ សូមប្រើប័ណ្ណថ្មីបំផុត។",
        },
        ReasonNotYetValid {
            vi: "Thẻ chưa đến ngày hiệu lực; kiểm tra đồng hồ của máy quét.",
            en: "The pass is not valid yet; check the scanner's clock.",
        },
        ReasonKeyRetired {
            vi: "Thẻ ký bằng khóa đã ngừng dùng. Mời khai báo lại.",
            en: "The pass was signed with a retired key. The person must declare again.",
        },
        ReasonUnknownKey {
            vi: "Không nhận ra khóa ký của thẻ; hãy đồng bộ máy quét rồi quét lại.",
            en: "The pass's signing key is unknown; sync the scanner and scan again.",
        },
        ReasonNoDeclaration {
            vi: "Người này chưa khai báo y tế. Mời khai báo (cán bộ xã có thể khai giúp) rồi quét lại.",
            en: "This person has not declared. They must declare (a commune officer can help), then scan again.",
        },
        ReasonVaccinationNotMet {
            vi: "Màu được vào, nhưng chưa đủ điều kiện tiêm chủng nơi này yêu cầu (số mũi, hoặc số ngày sau mũi cuối). Mời tiêm đủ mũi hoặc chờ đủ ngày rồi quay lại; dữ liệu tiêm sai thì liên hệ trạm y tế xã.",
            en: "The colour is admitted, but the vaccination this place requires is not met (doses, or days since the last). The person must complete the doses or wait the days, then come back; if the record is wrong, contact the commune health station.",
            km: "ពណ៌អនុញ្ញាតឱ្យចូល ប៉ុន្តែមិនទាន់បំពេញលក្ខខណ្ឌចាក់វ៉ាក់សាំងដែលទីនេះតម្រូវទេ (ចំនួនដូស ឬចំនួនថ្ងៃក្រោយដូសចុងក្រោយ)។ សូមចាក់ឱ្យគ្រប់ដូស ឬរង់ចាំឱ្យគ្រប់ថ្ងៃ ហើយត្រឡប់មកវិញ។ បើទិន្នន័យខុស សូមទាក់ទងស្ថានីយ៍សុខាភិបាលឃុំ។",
        },
        ReasonVaccinationNoData {
            vi: "Màu được vào, nhưng nơi này yêu cầu tiêm chủng và chưa có dữ liệu tiêm chủng của người này. Nếu đã tiêm, liên hệ trạm y tế xã để cập nhật rồi khai báo lại để nhận thẻ mới.",
            en: "The colour is admitted, but this place requires vaccination and there is no vaccination data for this person. If they were vaccinated, they contact the commune health station to update it, then declare again for a new pass.",
            km: "ពណ៌អនុញ្ញាតឱ្យចូល ប៉ុន្តែទីនេះតម្រូវឱ្យចាក់វ៉ាក់សាំង ហើយមិនទាន់មានទិន្នន័យចាក់វ៉ាក់សាំងរបស់អ្នកទេ។ បើបានចាក់ហើយ សូមទាក់ទងស្ថានីយ៍សុខាភិបាលឃុំដើម្បីធ្វើបច្ចុប្បន្នភាព រួចប្រកាសម្តងទៀតដើម្បីទទួលប័ណ្ណថ្មី។",
        },
        ReasonDccNotAccepted {
            vi: "Nơi này không nhận chứng nhận COVID quốc tế thay thẻ thông hành. Mời khai báo y tế (khách nước ngoài: liên hệ cán bộ tại chốt).",
            en: "This place does not accept an EU COVID certificate instead of a pass. The person must declare (a foreign visitor: ask the officer on duty).",
        },
        ReasonDccExpired {
            vi: "Chứng nhận COVID đã hết hạn. Đề nghị xuất trình chứng nhận còn hạn hoặc khai báo y tế.",
            en: "The COVID certificate has expired. Ask for a valid certificate or a health declaration.",
        },
        ReasonDccDscNotValid {
            vi: "Chứng thư ký của chứng nhận đã hết hiệu lực. Đề nghị xuất trình chứng nhận mới hoặc khai báo y tế.",
            en: "The certificate's signing certificate is no longer valid. Ask for a new certificate or a health declaration.",
        },
        ReasonDccNotYetValid {
            vi: "Chứng nhận chưa đến thời điểm hiệu lực; kiểm tra đồng hồ của máy quét.",
            en: "The certificate is not valid yet; check the scanner's clock.",
        },
        ReasonDccWrongKeyUsage {
            vi: "Nơi cấp không được phép ký loại chứng nhận này. Không cho vào bằng chứng nhận này.",
            en: "The issuer may not sign this type of certificate. Do not admit on this certificate.",
        },
        ReasonDccRevoked {
            vi: "Chứng nhận này đã bị thu hồi. Mời liên hệ trạm y tế xã để được cấp lại.",
            en: "This certificate was revoked. The person contacts the commune health station for a new one.",
        },
        ReasonDccNotVaccination {
            vi: "Nơi này yêu cầu tiêm chủng, nhưng đây là chứng nhận xét nghiệm hoặc khỏi bệnh. Đề nghị xuất trình chứng nhận tiêm chủng.",
            en: "This place requires vaccination, but this is a test or recovery certificate. Ask for a vaccination certificate.",
        },
        CertificateShown {
            vi: "Chứng nhận COVID EU · {kind} · {country} · hết hạn {date}",
            en: "EU COVID certificate · {kind} · {country} · expires {date}",
        },
        CertificateKindVaccination { vi: "tiêm chủng", en: "vaccination" },
        CertificateKindTest { vi: "xét nghiệm", en: "test" },
        CertificateKindRecovery { vi: "khỏi bệnh", en: "recovery" },
        ReasonInvalidCertificate {
            vi: "Mã không phải chứng nhận COVID hợp lệ (chữ ký hoặc nội dung sai, hoặc nơi cấp chưa có trong danh sách tin cậy). Kiểm tra hộ chiếu; đề nghị khai báo y tế.",
            en: "Not a valid COVID certificate (bad signature or content, or an issuer not on the trust list). Check the passport; ask for a health declaration.",
        },
        VaccinatedDoses {
            vi: "Đã tiêm {doses} mũi · mũi cuối {date}",
            en: "Vaccinated: {doses} doses · last {date}",
            km: "បានចាក់ {doses} ដូស · ដូសចុងក្រោយ {date}",
        },
        NoVaccinationData {
            vi: "Chưa có dữ liệu tiêm chủng",
            en: "No vaccination data",
            km: "មិនទាន់មានទិន្នន័យចាក់វ៉ាក់សាំង",
        },
        ReasonForged {
            vi: "Mã không phải thẻ thông hành thật của hệ thống. Kiểm tra giấy tờ tùy thân.",
            en: "This is not a genuine pass of this system. Check an identity document.",
        },
        ReasonLookup {
            vi: "Tra theo giấy tờ tùy thân.",
            en: "Looked up by identity document.",
        },
        ConfirmContacts {
            vi: "{n} người sẽ thành F1/F2; thẻ của họ dừng ngay và họ được báo tin. Tiếp tục?",
            en: "{n} people will become F1/F2; their passes stop now and they are notified. Continue?",
        },
        NothingSelected { vi: "Chưa chọn ai.", en: "No one is selected." },
        ContactsConfirmed {
            vi: "Đã xác nhận {n} người; {passes} thẻ đã dừng.",
            en: "{n} people confirmed; {passes} passes stopped.",
        },
        PeopleTold { vi: "Đã báo tin cho {n} người.", en: "{n} people were told." },
        PlacesPublished {
            vi: "Đã công bố {n} địa điểm, đến {until}.",
            en: "{n} places published, until {until}.",
        },
        MapLevel1 { vi: "Cấp 1 – nguy cơ thấp (xanh)", en: "Level 1 – low risk (green)" },
        MapLevel2 { vi: "Cấp 2 – nguy cơ trung bình (vàng)", en: "Level 2 – medium risk (yellow)" },
        MapLevel3 { vi: "Cấp 3 – nguy cơ cao (cam)", en: "Level 3 – high risk (orange)" },
        MapLevel4 { vi: "Cấp 4 – nguy cơ rất cao (đỏ)", en: "Level 4 – very high risk (red)" },
        MapLevelNone { vi: "Chưa xác định cấp độ", en: "No level yet" },
        MapDecision { vi: "Theo quyết định {number}", en: "As decided in {number}" },
        MapComputed { vi: "Tính theo tiêu chí: {level}", en: "From the criteria: {level}" },
        MapCases7d { vi: "Ca mắc trong 7 ngày: {n}", en: "Cases in 7 days: {n}" },
        MapCases { vi: "{n} ca", en: "{n} cases" },
        MapPlaces { vi: "{n} địa điểm, {cases} lượt liên quan đến ca bệnh", en: "{n} places, {cases} links to cases" },
        MapExposure {
            vi: "Nếu bạn đã ở {place} từ {from} đến {to}, hãy khai báo y tế.",
            en: "If you were at {place} from {from} to {to}, declare your health.",
        },
        MapNoGeometry {
            vi: "Chưa có ranh giới hành chính để vẽ bản đồ; bảng bên dưới có đủ số liệu.",
            en: "No boundaries are loaded to draw the map; the table below has every figure.",
        },
        MapIllustrative {
            vi: "Ranh giới xã, phường trên bản đồ này chỉ mang tính minh họa (dữ liệu mẫu); bản triển khai thật dùng ranh giới chính thức.",
            en: "The commune boundaries on this map are illustrative (demo data); a real deployment uses the official boundaries.",
        },
        MapIllustrativeCredit { vi: "Ranh giới xã: minh họa", en: "Commune boundaries: illustrative" },
        MapHistory { vi: "Các quyết định gần đây:", en: "Recent decisions:" },
        MapNoHistory { vi: "Chưa có quyết định nào.", en: "No decision yet." },
        MapHistoryUnavailable { vi: "Không tải được lịch sử cấp độ.", en: "The level history could not be loaded." },
        MapCaseFound { vi: "Ca số {id}: {places} địa điểm liên quan.", en: "Case {id}: {places} linked places." },
        MapOpenCase { vi: "Mở hồ sơ ca bệnh", en: "Open the case" },
        MapCaseNotFound {
            vi: "Không tìm thấy ca bệnh này trong địa bàn của bạn.",
            en: "No such case in your jurisdiction.",
        },
        ProximityCodeIssued {
            vi: "Đọc mã này cho người bệnh (đã gửi kèm tin nhắn). Hết hạn lúc {until}.",
            en: "Read this code to the person (it was also sent by SMS). Expires at {until}.",
        },
        PlacesWithdrawn { vi: "Đã gỡ {n} địa điểm khỏi trang công khai.", en: "{n} places taken off the public page." },
        Saved { vi: "Đã lưu.", en: "Saved." },
        NotANumber {
            vi: "Cần một số, ví dụ 9,603 (dấu phẩy hoặc dấu chấm đều được).",
            en: "A number is needed, e.g. 9.603 (a decimal comma or point).",
        },
        NoLocation {
            vi: "Không lấy được vị trí; hãy nhập tọa độ bằng tay.",
            en: "The location is not available; type the coordinates.",
        },
        Entered { vi: "Đã nhập", en: "Entered" },
        InRegistry { vi: "Dữ liệu dân cư", en: "Registry" },
        DocumentCheckedIssue {
            vi: "Tôi đã xem giấy tờ tùy thân: cấp thẻ theo dữ liệu dân cư",
            en: "I checked the identity document: issue the pass on the registry's details",
        },
        FilledFromRegistry {
            vi: "Đã điền từ dữ liệu dân cư; hãy đối chiếu với giấy tờ.",
            en: "Filled in from the registry; compare with the document.",
        },
        FindPlace { vi: "Tìm theo tên…", en: "Find by name…", km: "ស្វែងរកតាមឈ្មោះ…" },
    }
}
