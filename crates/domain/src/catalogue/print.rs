//! Texts of the printed documents: the pass card, the venue poster and the blank paper declaration form.
//!
//! Residents hold the card and read the poster, so their texts (`Card…`, `Poster…` and the frame's) have
//! Khmer too: first translations awaiting a native speaker's review, like every Khmer text of the catalogue
//! ([`super::KHMER_REVIEWED`]). The paper form is an official Vietnamese document filled in with an officer;
//! in Khmer it shows the Vietnamese text.

catalogue! {
    Print {
        // The frame of every printed document (shown on screen only).
        Print { vi: "In", en: "Print", km: "បោះពុម្ព" },
        Back { vi: "Quay lại", en: "Back", km: "ត្រឡប់ក្រោយ" },
        IssuedBy { vi: "Cơ quan cấp", en: "Issued by", km: "ចេញដោយ" },

        // The pass card.
        CardDocTitle { vi: "Thẻ thông hành", en: "Pass card", km: "ប័ណ្ណធ្វើដំណើរ" },
        CardTitle {
            vi: "THẺ THÔNG HÀNH KIỂM SOÁT DỊCH",
            en: "EPIDEMIC CONTROL PASS",
            km: "ប័ណ្ណធ្វើដំណើរ សម្រាប់ត្រួតពិនិត្យជំងឺរាតត្បាត",
        },
        CardBirthYear { vi: "Năm sinh", en: "Birth year", km: "ឆ្នាំកំណើត" },
        CardQr { vi: "Mã QR của thẻ thông hành", en: "Pass QR code", km: "កូដ QR ប័ណ្ណធ្វើដំណើរ" },
        CardStatusAtIssue {
            vi: "Màu lúc cấp thẻ. Khi quét mã, chốt kiểm soát xem tình trạng hiện tại.",
            en: "The colour when the pass was issued; a checkpoint sees the current status when it scans the code.",
            km: "ពណ៌នៅពេលចេញប័ណ្ណ។ ពេលស្កេនកូដ ប៉ុស្តិ៍ត្រួតពិនិត្យមើលឃើញស្ថានភាពបច្ចុប្បន្ន។",
        },
        CardValidUntil { vi: "Có hiệu lực đến", en: "Valid until", km: "មានសុពលភាពរហូតដល់" },
        CardPassId { vi: "Mã thẻ", en: "Pass id", km: "លេខប័ណ្ណ" },
        CardShowIt {
            vi: "Xuất trình thẻ này khi qua chốt kiểm soát và khi vào chợ, cơ sở kinh doanh, cơ quan.",
            en: "Show this card at checkpoints and when you enter markets, businesses and offices.",
            km: "សូមបង្ហាញប័ណ្ណនេះនៅប៉ុស្តិ៍ត្រួតពិនិត្យ និងពេលចូលផ្សារ អាជីវកម្ម និងការិយាល័យ។",
        },
        CardVoid { vi: "KHÔNG CÒN HIỆU LỰC", en: "VOID — NOT VALID", km: "មោឃៈ — លែងមានសុពលភាព" },
        CardVoidRevoked {
            vi: "Thẻ này đã bị thu hồi. Không dùng thẻ này để đi lại.",
            en: "This pass has been revoked. Do not use it to travel.",
            km: "ប័ណ្ណនេះត្រូវបានដកហូតហើយ។ កុំប្រើប័ណ្ណនេះដើម្បីធ្វើដំណើរ។",
        },
        CardVoidSuperseded {
            vi: "Thẻ này đã được thay bằng thẻ mới hơn. Hãy dùng thẻ mới nhất.",
            en: "This pass has been replaced by a newer one. Use the newest pass.",
            km: "ប័ណ្ណនេះត្រូវបានជំនួសដោយប័ណ្ណថ្មីជាង។ សូមប្រើប័ណ្ណថ្មីបំផុត។",
        },
        CardVoidExpired {
            vi: "Thẻ này đã hết hạn lúc {time}.",
            en: "This pass expired at {time}.",
            km: "ប័ណ្ណនេះបានផុតកំណត់នៅ {time}។",
        },
        CardVoidUnverifiable {
            vi: "Không kiểm tra được chữ ký của thẻ này.",
            en: "This pass's signature cannot be checked.",
            km: "មិនអាចផ្ទៀងផ្ទាត់ហត្ថលេខារបស់ប័ណ្ណនេះបានទេ។",
        },
        CardDeclareAgain {
            vi: "Khai báo y tế lại để nhận thẻ mới, hoặc gọi đường dây nóng.",
            en: "Declare again to get a new pass, or call the hotline.",
            km: "សូមប្រកាសសុខភាពម្តងទៀតដើម្បីទទួលប័ណ្ណថ្មី ឬទូរស័ព្ទទៅខ្សែទូរស័ព្ទបន្ទាន់។",
        },

        // The venue poster.
        PosterDocTitle { vi: "Áp phích ghi nhận vào/ra", en: "Check-in poster", km: "ផ្ទាំងរូបភាពកត់ត្រាការចេញចូល" },
        PosterTitle {
            vi: "QUÉT MÃ QR KHI VÀO / RA",
            en: "SCAN THE QR CODE WHEN YOU COME IN / GO OUT",
            km: "ស្កេនកូដ QR ពេលចូល / ចេញ",
        },
        PosterQr {
            vi: "Mã QR ghi nhận vào/ra của địa điểm",
            en: "The venue's check-in QR code",
            km: "កូដ QR កត់ត្រាការចេញចូលរបស់ទីកន្លែង",
        },
        PosterHow {
            vi: "Mở camera điện thoại, hướng vào mã QR và mở đường dẫn hiện ra để ghi nhận lượt vào hoặc ra.",
            en: "Open your phone's camera, point it at the QR code and open the link it shows to record your entry or exit.",
            km: "បើកកាមេរ៉ាទូរស័ព្ទ តម្រង់ទៅកូដ QR ហើយបើកតំណដែលបង្ហាញ ដើម្បីកត់ត្រាការចូល ឬចេញ។",
        },
        PosterNoSmartphone {
            vi: "Không có điện thoại thông minh: đưa thẻ thông hành giấy hoặc giấy tờ tùy thân cho nhân viên để được ghi nhận.",
            en: "No smartphone: show your paper pass card or an identity document to the staff, who will record your visit.",
            km: "គ្មានស្មាតហ្វូន៖ សូមបង្ហាញប័ណ្ណធ្វើដំណើរក្រដាស ឬឯកសារអត្តសញ្ញាណដល់បុគ្គលិក ដើម្បីកត់ត្រាការចេញចូលរបស់អ្នក។",
        },
        PosterOrOpen { vi: "Hoặc mở địa chỉ:", en: "Or open:", km: "ឬបើកអាសយដ្ឋាន៖" },
        PosterNoSigningKey {
            vi: "Chưa có khóa ký nên chưa in được áp phích. Quản trị viên cần tạo khóa ký trước.",
            en: "There is no signing key yet, so the poster cannot be printed. An administrator must create one first.",
            km: "មិនទាន់មានសោចុះហត្ថលេខា ដូច្នេះមិនអាចបោះពុម្ពផ្ទាំងរូបភាពបានទេ។ អ្នកគ្រប់គ្រងត្រូវបង្កើតសោជាមុនសិន។",
        },

        // The blank paper declaration form.
        FormDocTitle { vi: "Tờ khai y tế (bản giấy)", en: "Health declaration form (paper)" },
        FormNation { vi: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", en: "SOCIALIST REPUBLIC OF VIET NAM" },
        FormMotto { vi: "Độc lập - Tự do - Hạnh phúc", en: "Independence - Freedom - Happiness" },
        FormTitle { vi: "TỜ KHAI Y TẾ", en: "HEALTH DECLARATION" },
        FormIntro {
            vi: "Mỗi người khai một tờ. Cán bộ phường, xã nhập tờ khai vào hệ thống và in thẻ thông hành cho người khai. Đánh dấu X vào ô phù hợp.",
            en: "One sheet per person. The commune officer enters it into the system and prints the declarant's pass card. Mark the boxes that apply with an X.",
        },
        FormPhone { vi: "Số điện thoại (nếu có)", en: "Phone (if any)" },
        FormAddress { vi: "Địa chỉ nơi ở (số nhà, đường, ấp, xã, phường)", en: "Address (house, street, hamlet, commune)" },
        FormYes { vi: "Có", en: "Yes" },
        FormNo { vi: "Không", en: "No" },
        FormTravel {
            vi: "Di chuyển trong 14 ngày qua (phương tiện, nơi đi, nơi đến, ngày đi)",
            en: "Travel in the last 14 days (means, from, to, date)",
        },
        FormConsent {
            vi: "Tôi cam kết những thông tin trên là đúng sự thật và đồng ý cho cơ quan y tế sử dụng để phòng, chống dịch. Khai báo không trung thực có thể bị xử lý theo quy định của pháp luật.",
            en: "I declare that the above is true and agree that the health authorities use it for epidemic control. A false declaration may be penalised under the law.",
        },
        FormPlaceDate {
            vi: "……………………, ngày …… tháng …… năm ………",
            en: "Place and date: ……………………………………",
        },
        FormDeclarant { vi: "NGƯỜI KHAI", en: "DECLARANT" },
        FormReceiver { vi: "NGƯỜI TIẾP NHẬN", en: "RECEIVED BY" },
        FormSignHere { vi: "(Ký, ghi rõ họ tên)", en: "(Signature and full name)" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Message;

    #[test]
    fn what_residents_hold_and_read_is_in_khmer() {
        for m in Print::ALL {
            if !m.key().starts_with("Form") {
                assert!(m.km().is_some(), "Print::{} has no Khmer", m.key());
            }
        }
    }

    #[test]
    fn the_poster_title_is_the_one_people_know() {
        assert_eq!(Print::PosterTitle.vi(), "QUÉT MÃ QR KHI VÀO / RA");
        assert_eq!(Print::FormNation.vi(), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    }
}
