//! Messages sent by SMS and shown as in-app notices. Written in Vietnamese with its diacritics (an unaccented
//! text is hard to read and easy to misread: "ban" is both "bạn" and "bán"), short enough for few segments,
//! every placeholder filled where it is sent. Residents whose language is not known get Vietnamese.

catalogue! {
    Sms {
        OneTimeCode {
            vi: "kiemdich: mã xác nhận khai báo y tế của bạn là {code}, hết hạn sau {minutes} phút. Không đưa mã này cho ai.",
            en: "kiemdich: your health declaration code is {code}; it expires in {minutes} minutes. Do not share it.",
            km: "kiemdich: លេខកូដប្រកាសសុខភាពរបស់អ្នកគឺ {code} ផុតកំណត់ក្នុង {minutes} នាទី។ កុំប្រាប់អ្នកណា។",
        },
        CaseOpened {
            vi: "kiemdich: bạn được xác định là {class}. Thẻ thông hành cũ đã hết hiệu lực. Hãy theo dõi sức khỏe và làm theo hướng dẫn của trạm y tế xã, phường.",
            en: "kiemdich: you have been identified as {class}. Your previous pass no longer counts. Watch your health and follow your commune health station.",
            km: "kiemdich: អ្នកត្រូវបានកំណត់ថាជា {class}។ ប័ណ្ណចាស់លែងមានសុពលភាព។ សូមតាមដានសុខភាព ហើយធ្វើតាមការណែនាំរបស់ស្ថានីយ៍សុខាភិបាលឃុំ។",
        },
        QuarantineUntil {
            vi: "Cách ly đến hết ngày {date}.",
            en: "Quarantine until the end of {date}.",
            km: "ធ្វើចត្តាឡីស័ករហូតដល់ចុងថ្ងៃ {date}។",
        },
        CaseToCommune {
            vi: "{class} mới ở xã: {person} (ca số {case}). Cần theo dõi hằng ngày.",
            en: "New {class} in the commune: {person} (case {case}). Daily follow-up needed.",
        },
        ZoneExposure {
            vi: "kiemdich: bạn đã ở {place} từ {from} đến {to}, cùng lúc với một ca bệnh. Hãy theo dõi sức khỏe và khai báo y tế.",
            en: "kiemdich: you were at {place} from {from} to {to}, at the same time as a case. Watch your health and declare.",
            km: "kiemdich: អ្នកបាននៅ {place} ពី {from} ដល់ {to} ក្នុងពេលតែមួយជាមួយអ្នកជំងឺ។ សូមតាមដានសុខភាព ហើយប្រកាស។",
        },
        DeclaredForYou {
            vi: "kiemdich: cán bộ {officer} ({commune}) đã khai báo y tế thay bạn. Nếu bạn không biết việc này, hãy báo trạm y tế xã.",
            en: "kiemdich: officer {officer} ({commune}) declared for you. If you did not know, tell your commune health station.",
            km: "kiemdich: មន្ត្រី {officer} ({commune}) បានប្រកាសសុខភាពជំនួសអ្នក។ បើអ្នកមិនដឹង សូមជូនដំណឹងស្ថានីយ៍សុខាភិបាលឃុំ។",
        },
        ResultReady {
            vi: "kiemdich: kết quả xét nghiệm {test} của bạn (mẫu lấy {collected}) là {result}, do {lab} xét nghiệm lúc {tested}. Xem trên trang cá nhân kiemdich.",
            en: "kiemdich: your {test} result (sample taken {collected}) is {result}, tested by {lab} at {tested}. See it on your kiemdich page.",
        },
        ResampleNeeded {
            vi: "kiemdich: mẫu gộp có mẫu của bạn cần xét nghiệm lại. Hãy đến trạm y tế xã, phường để lấy mẫu lại.",
            en: "kiemdich: the pool holding your sample must be tested again. Go to your commune health station to be sampled again.",
        },
        PcrOrdered {
            vi: "kiemdich: test nhanh của bạn dương tính, đang chờ khẳng định. Hãy ở nhà và đến trạm y tế xã, phường để lấy mẫu RT-PCR.",
            en: "kiemdich: your rapid test is positive, awaiting confirmation. Stay home and go to your commune health station for a PCR sample.",
        },
        PoolToCommune {
            vi: "Mẫu gộp {pool} {result}: {people} người ở xã cần lấy mẫu lại ({labels}).",
            en: "Pool {pool} {result}: {people} people of the commune must be sampled again ({labels}).",
        },
        F1TestDays {
            vi: "kiemdich: lịch lấy mẫu xét nghiệm trong thời gian cách ly: {days}.",
            en: "kiemdich: your test days during quarantine: {days}.",
        },
        ProximityCode {
            vi: "kiemdich: mã tải khoá của bạn là {code}, dùng được đến {until}. Nhập mã vào ứng dụng để gửi khoá, cảnh báo người từng ở gần bạn (không nêu tên bạn). Không đưa mã cho ai khác.",
            en: "kiemdich: your key upload code is {code}, usable until {until}. Enter it in the app to send your keys and warn people who were near you (you are not named). Do not share it.",
        },
        QuarantineEnded {
            vi: "kiemdich: kết quả âm tính ngày kết thúc cách ly; bạn đã hoàn thành cách ly.",
            en: "kiemdich: negative on your release day; your quarantine has ended.",
        },
    }
}
