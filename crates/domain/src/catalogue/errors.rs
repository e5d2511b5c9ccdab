//! What the API says when it refuses: a message per error (`ApiText`, the answer's `message` in the caller's
//! language) and a code per field problem (`Problem`, in `fields[].code`, which pages translate next to the
//! field).

catalogue! {
    ApiText {
        Invalid {
            vi: "Một số thông tin chưa đúng; xem ghi chú ở từng ô.",
            en: "Some details are not right; see the note at each field.",
            km: "ព័ត៌មានខ្លះមិនត្រឹមត្រូវ។ សូមមើលការកត់សម្គាល់នៅប្រអប់នីមួយៗ។",
        },
        InvalidBody {
            vi: "Biểu mẫu gửi lên không đọc được; hãy tải lại trang và thử lại.",
            en: "The form could not be read; reload the page and try again.",
            km: "មិនអាចអានទម្រង់បាន។ សូមផ្ទុកទំព័រឡើងវិញ ហើយព្យាយាមម្តងទៀត។",
        },
        TooLarge { vi: "Dữ liệu gửi lên quá lớn.", en: "What was sent is too large.", km: "ទិន្នន័យដែលបានផ្ញើធំពេក។" },
        BatchTooLarge {
            vi: "Mỗi lần gửi tối đa {max} lượt quét; hãy chia phần còn lại sang lần gửi sau.",
            en: "A batch holds at most {max} scans; send the rest in another batch.",
        },
        Unauthorized {
            vi: "Cần đăng nhập để làm việc này.",
            en: "Sign in to do this.",
            km: "សូមចូលប្រើប្រាស់ដើម្បីធ្វើការនេះ។",
        },
        Forbidden {
            vi: "Tài khoản của bạn không có quyền làm việc này.",
            en: "Your account may not do this.",
            km: "គណនីរបស់អ្នកមិនមានសិទ្ធិធ្វើការនេះទេ។",
        },
        NotFound {
            vi: "Không tìm thấy, hoặc nằm ngoài địa bàn của bạn.",
            en: "Not found, or outside your jurisdiction.",
            km: "រកមិនឃើញ ឬនៅក្រៅដែនសមត្ថកិច្ចរបស់អ្នក។",
        },
        Conflict {
            vi: "Việc này đã được thực hiện hoặc mâu thuẫn với dữ liệu hiện có.",
            en: "This was already done or conflicts with what is stored.",
            km: "ការនេះបានធ្វើរួចហើយ ឬផ្ទុយនឹងទិន្នន័យដែលមាន។",
        },
        IdempotencyConflict {
            vi: "Lượt quét này đã được gửi với nội dung khác.",
            en: "This scan was already sent with different content.",
        },
        InvalidPass {
            vi: "Đây không phải thẻ thông hành hợp lệ của hệ thống.",
            en: "This is not a genuine pass of this system.",
            km: "នេះមិនមែនជាប័ណ្ណធ្វើដំណើរត្រឹមត្រូវរបស់ប្រព័ន្ធទេ។",
        },
        RateLimited {
            vi: "Quá nhiều lần thử; hãy đợi {seconds} giây rồi thử lại.",
            en: "Too many attempts; wait {seconds} seconds and try again.",
            km: "ព្យាយាមច្រើនដងពេក។ សូមរង់ចាំ {seconds} វិនាទី ហើយព្យាយាមម្តងទៀត។",
        },
        NoSigningKey {
            vi: "Hệ thống tạm chưa cấp được thẻ; hãy thử lại sau ít phút.",
            en: "Passes cannot be issued right now; try again in a few minutes.",
            km: "មិនអាចចេញប័ណ្ណបានឥឡូវនេះទេ។ សូមព្យាយាមម្តងទៀតក្នុងពេលបន្តិចទៀត។",
        },
        Unavailable {
            vi: "Hệ thống tạm thời không ghi được dữ liệu; yêu cầu chưa được thực hiện. Hãy gửi lại sau {seconds} giây.",
            en: "The system cannot store data just now; the request was not applied. Send it again in {seconds} seconds.",
            km: "ប្រព័ន្ធមិនអាចរក្សាទុកទិន្នន័យបានទេឥឡូវនេះ។ សំណើមិនទាន់បានអនុវត្ត។ សូមផ្ញើម្តងទៀតក្នុងរយៈពេល {seconds} វិនាទី។",
        },
        DccNoDose {
            vi: "Người này chưa có mũi tiêm nào được ghi nên chưa cấp được chứng nhận tiêm chủng.",
            en: "No dose is recorded for this person, so no vaccination certificate can be issued.",
            km: "មិនទាន់មានការកត់ត្រាការចាក់វ៉ាក់សាំងសម្រាប់បុគ្គលនេះទេ ដូច្នេះមិនអាចចេញវិញ្ញាបនបត្រចាក់វ៉ាក់សាំងបានទេ។",
        },
        DccNoSigner {
            vi: "Hệ thống chưa cài chứng thư ký (DSC) nên chưa cấp được chứng nhận tiêm chủng.",
            en: "No document signer (DSC) is installed, so vaccination certificates cannot be issued.",
        },
        Internal {
            vi: "Máy chủ gặp lỗi; yêu cầu chưa được thực hiện. Hãy thử lại.",
            en: "The server failed; the request was not applied. Try again.",
            km: "ម៉ាស៊ីនមេមានបញ្ហា។ សំណើមិនទាន់បានអនុវត្ត។ សូមព្យាយាមម្តងទៀត។",
        },
        NotSupported {
            vi: "Hệ thống chưa hỗ trợ việc này.",
            en: "This server does not support this.",
        },
        WrongLogin { vi: "Sai tên đăng nhập hoặc mật khẩu.", en: "Unknown username or wrong password." },
        UnknownDevice { vi: "Mã thiết bị không đúng hoặc đã bị thu hồi.", en: "Unknown or revoked device token." },
        CrossSite {
            vi: "Yêu cầu đến từ trang khác nên bị từ chối.",
            en: "A cross-site request was refused.",
            km: "សំណើពីគេហទំព័រផ្សេងត្រូវបានបដិសេធ។",
        },
        OtpSent {
            vi: "Nếu số CCCD này đã đăng ký số điện thoại, mã xác nhận đã được gửi đến số đó.",
            en: "If this id is registered with a phone, a code was sent to it.",
            km: "ប្រសិនបើលេខអត្តសញ្ញាណនេះបានចុះឈ្មោះលេខទូរស័ព្ទ លេខកូដត្រូវបានផ្ញើទៅលេខនោះ។",
        },
        OtpWrong {
            vi: "Mã xác nhận không đúng; còn {left} lần thử.",
            en: "Wrong code; {left} attempts left.",
            km: "លេខកូដមិនត្រឹមត្រូវ។ នៅសល់ {left} ដង។",
        },
        OtpLocked {
            vi: "Đã nhập sai quá nhiều lần; hãy xin mã mới.",
            en: "Too many wrong codes; ask for a new one.",
            km: "បញ្ចូលខុសច្រើនដងពេក។ សូមស្នើលេខកូដថ្មី។",
        },
        OtpExpired {
            vi: "Mã xác nhận đã hết hạn hoặc đã dùng; hãy xin mã mới.",
            en: "The code has expired or was used; ask for a new one.",
            km: "លេខកូដផុតកំណត់ ឬបានប្រើរួច។ សូមស្នើលេខកូដថ្មី។",
        },
        RegistryMismatch {
            vi: "Thông tin không khớp với dữ liệu dân cư; cán bộ xã có thể giúp bạn.",
            en: "The details do not match the registry; your commune officer can help.",
            km: "ព័ត៌មានមិនត្រូវនឹងបញ្ជីប្រជាជនទេ។ មន្ត្រីឃុំអាចជួយអ្នកបាន។",
        },
        OutsideJurisdiction {
            vi: "Ngoài địa bàn của bạn: {unit}.",
            en: "Outside your jurisdiction: {unit}.",
        },
        CaseEnded { vi: "Ca bệnh này đã kết thúc.", en: "This case has already ended." },
        NotConfirmedCase {
            vi: "Chỉ công bố địa điểm liên quan của ca bệnh đã xác nhận (F0).",
            en: "Only a confirmed (F0) case's places may be published.",
        },
        ProximityCodeRefused {
            vi: "Mã tải khoá không đúng, đã dùng hoặc đã hết hạn; hãy xin cán bộ y tế mã mới.",
            en: "The key upload code is wrong, used or expired; ask the health officer for a new one.",
            km: "លេខកូដផ្ទុកកូនសោមិនត្រឹមត្រូវ បានប្រើរួច ឬផុតកំណត់។ សូមស្នើលេខកូដថ្មីពីមន្ត្រីសុខាភិបាល។",
        },
        NoExportKey {
            vi: "Chưa có khoá ký gói khoá phơi nhiễm.",
            en: "No export signing key yet.",
        },
        OwnAccount {
            vi: "Không thể tự khoá tài khoản của chính mình.",
            en: "You cannot disable your own account.",
        },
    }
}

catalogue! {
    Problem {
        Invalid { vi: "Giá trị không hợp lệ.", en: "Not a valid value.", km: "តម្លៃមិនត្រឹមត្រូវ។" },
        Required { vi: "Cần điền ô này.", en: "This is required.", km: "ត្រូវបំពេញប្រអប់នេះ។" },
        CitizenIdShape {
            vi: "Số CCCD gồm đúng 12 chữ số.",
            en: "A citizen id is exactly 12 digits.",
            km: "លេខអត្តសញ្ញាណមាន ១២ ខ្ទង់។",
        },
        CitizenIdProvince {
            vi: "Ba số đầu của CCCD không phải mã tỉnh.",
            en: "The first three digits are not a province code.",
            km: "លេខបីខ្ទង់ដំបូងមិនមែនជាលេខកូដខេត្តទេ។",
        },
        CitizenIdHolder {
            vi: "Số CCCD không khớp với năm sinh hoặc giới tính.",
            en: "The citizen id does not match the birth year or sex.",
            km: "លេខអត្តសញ្ញាណមិនត្រូវនឹងឆ្នាំកំណើត ឬភេទទេ។",
        },
        Date {
            vi: "Ngày không hợp lệ (ngày/tháng/năm).",
            en: "Not a valid date.",
            km: "កាលបរិច្ឆេទមិនត្រឹមត្រូវ។",
        },
        DateOutOfRange {
            vi: "Ngày nằm ngoài khoảng cho phép.",
            en: "The date is outside the allowed range.",
            km: "កាលបរិច្ឆេទនៅក្រៅចន្លោះដែលអនុញ្ញាត។",
        },
        Phone {
            vi: "Số điện thoại không hợp lệ.",
            en: "Not a valid phone number.",
            km: "លេខទូរស័ព្ទមិនត្រឹមត្រូវ។",
        },
        Name {
            vi: "Họ tên không hợp lệ.",
            en: "Not a valid name.",
            km: "ឈ្មោះមិនត្រឹមត្រូវ។",
        },
        Unit {
            vi: "Hãy chọn một địa danh trong danh sách.",
            en: "Choose a place from the list.",
            km: "សូមជ្រើសរើសទីកន្លែងពីបញ្ជី។",
        },
        Choice {
            vi: "Hãy chọn một mục trong danh sách.",
            en: "Choose one of the listed options.",
            km: "សូមជ្រើសរើសជម្រើសមួយពីបញ្ជី។",
        },
        TooLong { vi: "Quá dài.", en: "Too long.", km: "វែងពេក។" },
        TooMany { vi: "Quá nhiều mục.", en: "Too many entries.", km: "ច្រើនពេក។" },
        Number {
            vi: "Cần một số (dùng dấu phẩy hoặc dấu chấm thập phân).",
            en: "A number is needed (a decimal comma or point).",
        },
        OutOfRange { vi: "Giá trị nằm ngoài khoảng cho phép.", en: "Outside the allowed range." },
        Consent {
            vi: "Cần đồng ý để gửi tờ khai.",
            en: "Consent is needed to send the declaration.",
            km: "ត្រូវយល់ព្រមដើម្បីផ្ញើសេចក្តីប្រកាស។",
        },
        NotInHousehold {
            vi: "Chỉ khai hộ được người cùng hộ gia đình.",
            en: "You may declare only for members of your household.",
            km: "អាចប្រកាសជំនួសបានតែសមាជិកគ្រួសារតែប៉ុណ្ណោះ។",
        },
        OutsideJurisdiction {
            vi: "Nằm ngoài địa bàn của bạn.",
            en: "Outside your jurisdiction.",
        },
        NeedsDocumentCheck {
            vi: "Người này thuộc địa bàn khác: hãy xem giấy tờ tùy thân và đánh dấu ô xác nhận.",
            en: "This person belongs elsewhere: check their identity document and tick the box.",
        },
        WrongCode {
            vi: "Mã xác nhận không đúng.",
            en: "Wrong code.",
            km: "លេខកូដមិនត្រឹមត្រូវ។",
        },
        NotInRegistry {
            vi: "Không tìm thấy trong dữ liệu dân cư của địa bàn.",
            en: "Not in the registry of this jurisdiction.",
        },
        UnknownVaccine {
            vi: "Không nhận ra loại vắc xin; hãy chọn trong danh sách.",
            en: "Not a known vaccine; choose one from the list.",
            km: "មិនស្គាល់វ៉ាក់សាំងនេះទេ។ សូមជ្រើសរើសពីបញ្ជី។",
        },
        DoseNumber {
            vi: "Mũi tiêm phải từ 1 đến số mũi của phác đồ.",
            en: "The dose number runs from 1 to the doses in the series.",
            km: "លេខដូសត្រូវចាប់ពី ១ ដល់ចំនួនដូសនៃកម្រិតចាក់។",
        },
        BeforeBirth {
            vi: "Ngày này trước ngày sinh của người được tiêm.",
            en: "This date is before the person's birth.",
            km: "កាលបរិច្ឆេទនេះមុនថ្ងៃកំណើតរបស់អ្នកនោះ។",
        },
        DiffersFromStored {
            vi: "Khác với mũi tiêm đã ghi cùng ngày, cùng loại vắc xin.",
            en: "Differs from the dose already recorded for this day and vaccine.",
            km: "ខុសពីដូសដែលបានកត់ត្រារួចសម្រាប់ថ្ងៃ និងវ៉ាក់សាំងនេះ។",
        },
        Country {
            vi: "Hãy chọn một quốc gia trong danh sách.",
            en: "Choose a country from the list.",
            km: "សូមជ្រើសរើសប្រទេសពីបញ្ជី។",
        },
        Password {
            vi: "Mật khẩu cần ít nhất 12 ký tự.",
            en: "A password needs at least 12 characters.",
        },
        UnknownSample {
            vi: "Không tìm thấy mẫu hoặc mẫu gộp này trong địa bàn của bạn; hãy quét lại nhãn.",
            en: "No such sample or pool in your jurisdiction; scan the label again.",
        },
        AlreadyResulted {
            vi: "Mẫu này đã được gộp hoặc đã có kết quả.",
            en: "This sample is already pooled or has a result.",
        },
        MixedTestTypes {
            vi: "Chỉ gộp các mẫu xét nghiệm RT-PCR; test nhanh kháng nguyên được đọc riêng.",
            en: "Only PCR samples are pooled; a rapid antigen test is read on its own.",
        },
        BeforeCollection {
            vi: "Thời điểm xét nghiệm trước thời điểm lấy mẫu.",
            en: "The test is dated before the sample was collected.",
        },
        NotConfirmedCase {
            vi: "Chỉ cấp mã tải khoá cho ca bệnh đã xác nhận (F0) chưa kết thúc.",
            en: "Key upload codes are only for a confirmed (F0) case that has not ended.",
        },
        KeyConsent {
            vi: "Cần đồng ý gửi các khoá của điện thoại để cảnh báo người tiếp xúc.",
            en: "Consent is needed to send the phone's keys and warn contacts.",
            km: "ត្រូវយល់ព្រមផ្ញើកូនសោរបស់ទូរស័ព្ទ ដើម្បីព្រមានអ្នកប៉ះពាល់។",
        },
        KeyLength {
            vi: "Khoá phải gồm đúng 16 byte (base64).",
            en: "A key must be exactly 16 bytes (base64).",
        },
        KeyFuture {
            vi: "Khoá bắt đầu ở thời điểm trong tương lai.",
            en: "The key starts in the future.",
        },
        KeyTooOld {
            vi: "Khoá đã quá 14 ngày.",
            en: "The key is more than 14 days old.",
        },
        KeyOverlap {
            vi: "Khoảng thời gian của khoá trùng với một khoá khác.",
            en: "The key's intervals overlap another key's.",
        },
        KeyDuplicate {
            vi: "Khoá bị gửi trùng.",
            en: "The key is sent twice.",
        },
    }
}

/// A problem is sent as its key in snake case (`citizen_id_shape`), a stable code clients branch on.
impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&snake_case(super::Message::key(*self)))
    }
}

pub(super) fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
